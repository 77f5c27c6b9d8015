"""``escsim sensitivity``: SALib's indices on a toy whose answer is known, the noise flag, errors.

The toy is the fictional strait scenario with three outcome thresholds as the
parameters. The model reads thresholds only to classify a run (sim/model/outcomes.py:
a run's class is the most severe threshold it crossed; de-escalated or frozen is
decided only among runs that crossed none). So:

- ``outcomes.war.min_level`` in 6..7 (the clash level is 6) moves runs between
  militarized clash and war only;
- ``outcomes.deescalated.sustain_days`` and ``outcomes.deescalated.max_level`` move
  runs between de-escalated and frozen only.

War's probability therefore depends on war.min_level alone, and on common random
numbers the other two leave every run's class unchanged: their indices for war are
exactly zero.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from sim.experiments import sensitivity as S
from tests.conftest import results_folder, run_cli

TOY = ["--params", "outcomes.war.min_level=6:7",
       "--params", "outcomes.deescalated.sustain_days=1:40",
       "--params", "outcomes.deescalated.max_level=0:2"]
SMALL = ["fictional-strait", "--runs", "50", "--days", "60", "--workers", "1", "--quiet"]


def indices(folder) -> dict:
    """indices.csv as {(outcome, parameter): row}."""
    with open(folder / "indices.csv", newline="") as f:
        return {(r["outcome"], r["parameter"]): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def sobol(tmp_path_factory):
    out = tmp_path_factory.mktemp("sobol")
    proc = run_cli("sensitivity", *SMALL, "--method", "sobol", "--n", "32", *TOY,
                   "--out", out, check=0)
    return results_folder(proc)


def test_sobol_total_index_of_the_one_parameter_dominates(sobol):
    """War depends on war.min_level only: its ST is large and not noise, the others' are 0."""
    rows = indices(sobol)
    war = rows["war", "outcomes.war.min_level"]
    assert war["rank"] == "1" and war["within_noise"] == "no"
    # a step function of one parameter: ST is 1 up to the estimator's error at N = 32,
    # whose 95% half-width SALib reports as ST_conf
    assert float(war["ST"]) > 1 - 2 * float(war["ST_conf"])
    for other in ("outcomes.deescalated.sustain_days", "outcomes.deescalated.max_level"):
        row = rows["war", other]
        assert float(row["ST"]) == 0.0 and float(row["S1"]) == 0.0
        assert row["within_noise"] == "yes"


def test_sobol_folder_holds_charts_report_and_manifest(sobol):
    """Every outcome with indices has a tornado chart in the report; the manifest is complete."""
    import json
    manifest = json.loads((sobol / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["settings"]["method"] == "sobol"
    assert manifest["settings"]["sets"] == 32 * (2 * 3 + 2)
    assert not (sobol / "INCOMPLETE").exists()
    html = (sobol / "report.html").read_text()
    for outcome in ("deescalated", "frozen", "militarized_clash", "war"):
        assert (sobol / "charts" / f"tornado-{outcome}.png").stat().st_size > 1000
        assert f"tornado chart of {outcome}" in html


def test_morris_ranks_the_toy_parameters():
    """Morris puts war.min_level first for war and clash and a de-escalation threshold first
    for de-escalated; the parameters that cannot move a run's class have mu* = 0."""
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        proc = run_cli("sensitivity", *SMALL, "--method", "morris", "--n", "10", *TOY,
                       "--out", tmp, check=0)
        rows = indices(Path(results_folder(proc)))
    for outcome in ("war", "militarized_clash"):
        assert rows[outcome, "outcomes.war.min_level"]["rank"] == "1"
        assert rows[outcome, "outcomes.war.min_level"]["within_noise"] == "no"
        for other in ("outcomes.deescalated.sustain_days", "outcomes.deescalated.max_level"):
            assert float(rows[outcome, other]["mu_star"]) == 0.0
    assert float(rows["deescalated", "outcomes.war.min_level"]["mu_star"]) == 0.0
    assert rows["deescalated", "outcomes.war.min_level"]["rank"] == "3"


def test_noise_flag_on_independent_binomial_noise():
    """With independent binomial noise (no common random numbers), parameters the output does
    not depend on get non-zero indices from noise alone; the flag marks them, not the one that
    matters, and the Sobol' noise level is close to the noise's share of the variance."""
    runs, n = 200, 256
    d = S.design("sobol", ["a", "b", "c", "d"], [(0, 1)] * 4, n, seed=7)
    p = 0.2 + 0.6 * d.x[:, 0]
    counts = np.zeros((len(p), 5), dtype=np.int64)
    counts[:, 3] = np.random.default_rng(1).binomial(runs, p)
    counts[:, 0] = runs - counts[:, 3]
    rows = {r["parameter"]: r for r in S.analyse(d, counts, runs, seed=7) if r["outcome"] == "war"}
    assert not rows["a"]["within_noise"] and rows["a"]["rank"] == 1
    assert all(rows[k]["within_noise"] and rows[k]["ST"] > 0 for k in "bcd")
    # p = 0.2 + 0.6 x, x uniform: Var p = 0.36 / 12 = 0.03, E p(1 - p) = 0.5 - 0.28 = 0.22;
    # noise variance 0.22 / R; a no-effect parameter's ST is about that share of the total
    share = (0.22 / runs) / (0.03 + 0.22 / runs)
    assert 0.8 * share < rows["a"]["ST_noise"] < 2.0 * share


@pytest.mark.parametrize("params, needle", [
    (["outcomes.war.min_levl=6:7"], "did you mean"),
    (["outcomes.war.min_level=7:6"], "LO must be below HI"),
    (["outcomes.war.min_level"], "expected PATH=LO:HI"),
    (["memory.decay=0:3"], "memory.decay"),
])
def test_bad_params_are_located_and_exit_2(tmp_path, params, needle):
    """A bad --params text names itself and the problem, exits 2, and leaves no folder."""
    proc = run_cli("sensitivity", *SMALL, *(a for p in params for a in ("--params", p)),
                   "--out", tmp_path)
    assert proc.returncode == 2
    assert f"--params {params[0]}" in proc.stderr and needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not any(tmp_path.iterdir())


def test_sobol_n_must_be_a_power_of_two(tmp_path):
    """Sobol' --n 100 is refused with a line naming --n; a bad --params is reported with it."""
    proc = run_cli("sensitivity", *SMALL, "--n", "100", "--params", "nope=0:1",
                   "--out", tmp_path)
    assert proc.returncode == 2
    assert "--n: Sobol' sampling needs a power of 2" in proc.stderr
    assert "--params nope=0:1" in proc.stderr
    assert not any(tmp_path.iterdir())
