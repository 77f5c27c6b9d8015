"""The coercer's success in every result (docs/results.md, "The coercer's success").

runs.csv's ``coerced`` and ``coerced_day`` are the model's own record (``World.success``)
of each run, whatever the chunks, workers or parameter sets; a compliance forced on a day
is recorded on that day in every run; the line below the outcome classes (stdout and
report) and sets.csv carry the same shares as the rows; a results folder written before
success was recorded still plots, and says so.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import numpy as np
import pytest

from sim import cli
from sim.ensemble import engine
from sim.ensemble.backends import InlineBackend, ProcessBackend
from sim.ensemble.montecarlo import run_ensemble
from sim.model import day as D
from sim.model.model import EscalationModel
from sim.model.outcomes import state_pairs
from sim.stats import wilson_interval
from tests.conftest import BASELINE, results_folder, run_cli

RUNS, DAYS, SEED = 60, 30, 5
KIND = {D.SUCCESS_NONE: "none", D.SUCCESS_COMPLIED: "complied",
        D.SUCCESS_FELL: "government_fell"}  # docs/results.md's names of World.success codes


def parse(scenario, text: str, sets: bool = False) -> list[dict]:
    """runs.csv rows (header from the engine, rows as streamed) as dicts."""
    header = engine.csv_header(scenario.actor_ids, state_pairs(scenario), sets)
    return list(csv.DictReader(io.StringIO(header + text)))


def streamed(scenario, **options):
    """runs.csv rows and the ensemble of one streamed run."""
    chunks = []
    ens = run_ensemble(scenario, runs=RUNS, seed=SEED, days=DAYS, on_rows=chunks.append,
                       **options)
    return "".join(chunks), ens


@pytest.fixture(scope="module")
def reference(baseline):
    return streamed(baseline, chunk_size=RUNS)


def test_columns_are_the_models_record(baseline, reference):
    """Each run's coerced and coerced_day are World.success of the same run simulated in
    memory by EscalationModel, and both kinds of success occur (not a vacuous match)."""
    rows = parse(baseline, reference[0])
    model = EscalationModel(baseline, runs=np.arange(RUNS), seed=SEED, days=DAYS)
    while model.day < model.horizon:
        model.step()
    expected = [(KIND[how], "" if day < 0 else str(day)) for day, how in model.success.tolist()]
    assert [(r["coerced"], r["coerced_day"]) for r in rows] == expected
    assert {kind for kind, _ in expected} == set(KIND.values())


def test_same_columns_and_counts_whatever_the_chunks_and_workers(baseline, reference):
    """Chunks of 7 runs in this process and chunks of 13 on two worker processes give the
    same runs.csv bytes, the same success counts and the same summary.json block."""
    from sim.results.folders import coercion
    text, ens = reference
    backend = ProcessBackend(2)
    try:
        for options in ({"chunk_size": 7, "backend": InlineBackend()},
                        {"chunk_size": 13, "backend": backend}):
            other_text, other = streamed(baseline, **options)
            assert other_text == text, options
            assert np.array_equal(other.aggregate.success, ens.aggregate.success), options
            assert coercion(other.aggregate, DAYS) == coercion(ens.aggregate, DAYS)
    finally:
        backend.close()


@pytest.fixture(scope="module")
def forced(tmp_path_factory):
    """`escsim run` with Venezuela forced to comply with the US on day 2 (and the US held
    back that day, so that no raid topples the government the same day: a fall outranks a
    compliance of the same day)."""
    out = tmp_path_factory.mktemp("forced")
    proc = run_cli("run", BASELINE, "--runs", 40, "--days", 6, "--seed", 11, "--out", out,
                   "--workers", 1, "--quiet", "--force", "2:VEN:comply_with_demands:USA",
                   "--force", "1:USA:hold", "--force", "2:USA:hold", check=0)
    return proc, results_folder(proc)


def runs_csv(folder) -> list[dict]:
    with open(folder / "runs.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_forced_compliance_is_recorded_on_its_day_in_every_run(forced):
    """comply_with_demands (its id in `escsim actions`) forced on day 2 gives coerced
    'complied' on day 2 in all 40 runs, and summary.json counts all of them."""
    _, folder = forced
    rows = runs_csv(folder)
    assert len(rows) == 40
    assert {(r["coerced"], r["coerced_day"]) for r in rows} == {("complied", "2")}
    numbers = json.loads((folder / "summary.json").read_text())["coercion"]
    assert numbers["complied"]["runs"] == numbers["any"]["runs"] == 40
    assert numbers["government_fell"]["runs"] == 0
    assert numbers["any"]["median_first_day"] == 2


def expected_line(rows: list[dict]) -> str:
    """The line docs/results.md describes, from runs.csv tallies and Wilson intervals."""
    def pct(count, label=""):
        lo, hi = wilson_interval(count, len(rows))
        return f"{count / len(rows):.1%} [{label}{100 * lo:.1f}-{hi:.1%}]"
    complied = sum(r["coerced"] == "complied" for r in rows)
    fell = sum(r["coerced"] == "government_fell" for r in rows)
    return (f"coercer's aim reached: {pct(complied + fell, '95% CI ')} (target complied "
            f"{pct(complied)}, government fell {pct(fell)})")


def test_stdout_and_report_show_the_line_below_the_classes(forced):
    """`escsim run` prints the coercer's line right after the five outcome rows, and the
    report shows it right after the outcome table, with the runs.csv shares."""
    proc, folder = forced
    line = expected_line(runs_csv(folder))
    assert line.startswith("coercer's aim reached: 100.0% [95% CI ")
    out = proc.stdout.splitlines()
    last_class = max(k for k, text in enumerate(out) if "great-power confrontation" in text)
    assert out[last_class + 1] == f"  {line}"
    page = (folder / "report.html").read_text(encoding="utf-8")
    shown = re.search(r'</table>\s*<p id="coercion"><strong>(.*?)</strong>', page)
    assert shown and shown.group(1) == "C" + line[1:].replace("'", "&#x27;")
    assert page.index("great-power confrontation</td>") < shown.start()


def test_sets_csv_carries_each_sets_shares(tmp_path):
    """With two parameter sets, sets.csv's coerced_* shares are each set's tallies in
    runs.csv, inside their Wilson intervals."""
    table = tmp_path / "sets.csv"
    table.write_text("actors.USA.resolve\n0.1\n1.0\n")
    proc = run_cli("run", BASELINE, "--runs", 40, "--days", 15, "--seed", 2, "--sets", table,
                   "--out", tmp_path / "out", "--workers", 1, "--quiet", check=0)
    folder = results_folder(proc)
    rows = runs_csv(folder)
    with open(folder / "sets.csv", encoding="utf-8", newline="") as fh:
        sets = list(csv.DictReader(fh))
    reached = 0
    for k, row in enumerate(sets):
        mine = [r for r in rows if r["set"] == str(k)]
        for kind in ("complied", "government_fell", "any"):
            count = sum(r["coerced"] == kind or (kind == "any" and r["coerced"] != "none")
                        for r in mine)
            reached += count
            lo, hi = wilson_interval(count, len(mine))
            assert row[f"coerced_{kind}"] == f"{count / len(mine):.6f}", (k, kind)
            assert (row[f"coerced_{kind}_ci95_low"], row[f"coerced_{kind}_ci95_high"]) == (
                f"{lo:.6f}", f"{hi:.6f}")
    assert reached > 0


def test_a_folder_from_before_success_was_recorded_still_plots(forced, tmp_path, capsys):
    """Without the success counts in aggregate.npz and the coercion block in summary.json,
    escsim plot redraws the report, which says the success is not recorded."""
    _, original = forced
    folder = tmp_path / "old"
    shutil.copytree(original, folder)
    with np.load(folder / "aggregate.npz") as f:
        arrays = {k: f[k] for k in f.files if k != "success"}
    np.savez_compressed(folder / "aggregate.npz", **arrays)
    numbers = json.loads((folder / "summary.json").read_text())
    del numbers["coercion"]
    (folder / "summary.json").write_text(json.dumps(numbers))
    assert cli.main(["plot", str(folder)]) == 0, capsys.readouterr().err
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "is not recorded in these results" in page
    assert 'id="coercion"' not in page


def test_compare_carries_each_scenarios_success_and_the_paired_difference(tmp_path):
    """comparison.json's coercion rows are each scenario's runs.csv tallies and their paired
    difference from the first scenario, and compare.html shows them."""
    proc = run_cli("compare", BASELINE, BASELINE.parent / "caribbean-2025-no-airstrikes.yaml",
                   "--runs", 40, "--days", 15, "--out", tmp_path, "--workers", 1, "--quiet",
                   check=0)
    folder = results_folder(proc)
    cmp = json.loads((folder / "comparison.json").read_text())
    per = [runs_csv(folder / name) for name in cmp["folders"]]
    for kind in ("complied", "government_fell", "any"):
        hit = [[int(r["coerced"] == kind or (kind == "any" and r["coerced"] != "none"))
                for r in rows] for rows in per]
        row = cmp["coercion"][kind]
        assert row["probability"] == [round(sum(h) / 40, 6) for h in hit], kind
        assert row["difference"][1]["mean"] == round((sum(hit[1]) - sum(hit[0])) / 40, 6)
    assert cmp["coercion"]["any"]["probability"][0] > 0
    assert "coercer&#x27;s aim" in (folder / "compare.html").read_text(encoding="utf-8")


def test_threshold_chart_draws_the_share_of_runs_that_succeeded(forced):
    """The thresholds chart's dashed curve is the share of runs whose coercer's aim was
    reached by each day: 0 before the forced compliance of day 2, all runs from it on."""
    from sim.results import plots
    from sim.results.resultset import ResultSet
    _, folder = forced
    fig = plots.threshold_curves(ResultSet.load(folder))
    try:
        [line] = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == plots.COERCION_LABEL]
        assert list(line.get_xdata()) == list(range(7))
        assert list(line.get_ydata()) == [0, 0, 1, 1, 1, 1, 1]
        assert line.get_linestyle() == "--"
    finally:
        plots.plt.close(fig)


def test_continuations_keep_a_success_reached_before_the_saved_day(tmp_path):
    """A run whose coercer succeeded before the saved day keeps that success, with its day
    and kind, in every continuation from the saved state (--from)."""
    proc = run_cli("run", BASELINE, "--runs", 60, "--days", 10, "--save-day", 4, "--out",
                   tmp_path / "a", "--workers", 1, "--quiet", check=0)
    rows = runs_csv(results_folder(proc))
    early = [r for r in rows if r["coerced"] != "none" and int(r["coerced_day"]) <= 4]
    assert early, "no run of this seed succeeded by day 4"
    state = next(results_folder(proc).glob("state-day4.npz"))
    proc = run_cli("run", BASELINE, "--from", state, "--run", early[0]["run"], "--runs", 3,
                   "--days", 10, "--out", tmp_path / "b", "--workers", 1, "--quiet", check=0)
    after = runs_csv(results_folder(proc))
    assert {(r["coerced"], r["coerced_day"]) for r in after} == {
        (early[0]["coerced"], early[0]["coerced_day"])}
