"""Redraw the charts and report of a results or comparison folder (``escsim plot``).

It sits above both kinds of folder: a comparison folder (:mod:`sim.results.compare`)
holds results folders (:mod:`sim.results.folders`), and replotting either only reads
what they wrote.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sim.errors import InputError, Problem
from sim.results import compare
from sim.results.folders import check_complete, draw
from sim.results.resultset import load_results


def replot(folder: Path, scheme: str | None = None) -> Path:
    """Redraw the charts and report of a results or comparison folder; return the report.

    Under the run's own scoring scheme they replace ``charts/`` and the report;
    under another scheme they go beside them, as ``charts-<scheme>/`` and
    ``report-<scheme>.html`` (``compare-<scheme>.html``). Every file read is
    checked first (:func:`sim.results.resultset.load_results`): a damaged folder gives
    one problem per line and is left as it was. The new files are drawn aside
    and moved in only when complete.
    """
    folder = Path(folder)
    check_complete(folder)  # an interrupted experiment's folder is never a result
    tmp = folder / f".replot.partial-{os.getpid()}"
    try:
        if compare.is_comparison(folder):
            own, page = scheme is None, "compare"
            compare.draw_into(folder, tmp, scheme)
        else:
            rs, numbers = load_results(folder)
            scheme = scheme or rs.run_scheme
            own, page = scheme == rs.run_scheme, "report"
            draw(rs.rescored(scheme), tmp, numbers)
        suffix = "" if own else f"-{scheme}"
        shutil.rmtree(folder / f"charts{suffix}", ignore_errors=True)
        (tmp / "charts").replace(folder / f"charts{suffix}")
        (tmp / f"{page}.html").replace(folder / f"{page}{suffix}.html")
    except OSError as exc:  # the folder cannot be written: read-only, full, gone
        raise InputError([Problem(folder, None, "", f"cannot write the charts: "
                                                    f"{exc.strerror or exc}")]) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder / f"{page}{suffix}.html"
