"""escsim calibrate and escsim backtest --cv: the design, the fit, the folds and the files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from sim.results import calibrate as C
from tests.conftest import line_of, results_folder, run_cli

EVENTS = """description: One naval deployment.
events:
- id: e01
  day: 0
  actor: AAA
  target: BBB
  action: deploy_naval_force
  cameo: '150'
  plover: MOBILIZE
  goldstein: -7.2
  severity: {level: 4, mid: 3, ladder: 5, rivera: 4}
  url: https://example.org/e01
"""
TOY = """title: toy crisis
start_date: 2001-01-01
horizon_days: 30
seed_events: toy.events.yaml
actors:
  AAA:
    name: A
    kind: state
    preset: coercer
    reciprocity: 0.6
    audience_cost: 0.6
    capabilities: {{military: 1.0, naval: 1.0, economic: 1.0}}
    pressure: {{BBB: 0.8}}
  BBB:
    name: B
    kind: state
    preset: target
    resolve: 0.6
    reciprocity: 0.9
    risk_aversion: 0.7
    rationality: 4.0
    audience_cost: 0.4
    capabilities: {{military: 0.1, naval: 0.1, economic: 0.1}}
outcomes:
  deescalated: {{max_level: 1, sustain_days: 7}}
  militarized_clash: {{min_level: 6}}
  war: {{min_level: 7, casualties: 1000}}
observed:
  outcome: {outcome}
  first_days: {{militarized_clash: 5}}
  sources:
  - url: https://example.org/toy
"""
CLASSES = {"quiet": "deescalated", "clash": "militarized_clash", "war": "war"}
# Three points that differ in the one way that matters here: nobody acts (every act costs
# 10 against a hold worth 0, chosen with precision 20), the coercer is free to strike (no
# inertia, full resolve, no fear of war), and a middle ground (the presets assumed before the
# first fit). The toy sets every other decision parameter itself, so the shipped presets'
# values do not change it.
FREE = (C.Free("coercer", "inertia", 0, 10, 1.2, ""), C.Free("coercer", "resolve", 0, 1, 0.7, ""),
        C.Free("coercer", "risk_aversion", 0, 5, 0.5, ""),
        C.Free("coercer", "rationality", 0, 100, 4, ""),
        C.Free("target", "inertia", 0, 10, 1, ""))
DESIGN = np.array([[10, 0.5, 0.5, 20, 10], [0, 1.0, 0.0, 20, 10], [1.2, 0.7, 0.5, 4, 1.0]])
RUNS = 100


def write_toys(folder, classes=CLASSES):
    """Copies of one two-state crisis, each with its own observed class."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toy.events.yaml").write_text(EVENTS, encoding="utf-8")
    for name, outcome in classes.items():
        (folder / f"{name}.yaml").write_text(TOY.format(outcome=outcome), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy cases simulated over the three-point design."""
    from sim.results.backtest import find_cases
    folder = write_toys(tmp_path_factory.mktemp("toys"))
    cases, _ = find_cases(folder)
    return C.calibrate(folder, cases, len(DESIGN), RUNS, 0, FREE, DESIGN)


# -------------------------------------------------------------- the design ---

def test_the_design_is_a_latin_hypercube_after_the_prior():
    """In every dimension the 20 points fall one in each of 20 equal slices (the Latin
    hypercube property); the design's point 0 is the values assumed before any fit (the
    presets' reasons in presets.yaml), the others the cube scaled to each range (to 3
    decimals); a seed gives one design."""
    cube = C.latin_hypercube(20, 9, seed=3)
    for k in range(9):
        assert sorted(np.floor(cube[:, k] * 20).astype(int).tolist()) == list(range(20))
    design = C.make_design(21, seed=3)
    assert design[0].tolist() == [0.7, 0.5, 1.2, 4.0, 0.6, 0.9, 1.0, 0.5, 0.8]
    lo, hi = np.array([f.lo for f in C.FREE]), np.array([f.hi for f in C.FREE])
    assert np.allclose(design[1:], lo + (hi - lo) * cube, atol=0.0005 + 1e-12)
    assert np.array_equal(design, C.make_design(21, seed=3))
    assert not np.array_equal(design, C.make_design(21, seed=4))


def test_free_parameters_go_only_to_actors_whose_file_leaves_them_to_the_preset(tmp_path):
    """An actor that sets resolve itself keeps it: the design does not reach that path; the
    other role's actor and the parameters left to the preset are reached."""
    from sim.inputs.scenario import load_scenario
    folder = write_toys(tmp_path, {"own": "war"})
    path = folder / "own.yaml"
    path.write_text(path.read_text().replace("preset: coercer", "preset: coercer\n    "
                                             "resolve: 0.9"))
    table = C.case_table(load_scenario(path), DESIGN, FREE)
    assert "actors.AAA.resolve" not in table
    assert table["actors.AAA.inertia"].tolist() == DESIGN[:, 0].tolist()
    assert table["actors.BBB.inertia"].tolist() == DESIGN[:, 4].tolist()


# -------------------------------------------------------------- the table ---

def test_each_point_of_the_table_equals_the_same_runs_simulated_with_that_parameter_set(toy):
    """Point k's counts and crossings are those of runs 0..99 with seed 0 and point k's
    values as one parameter set, simulated in memory through the other path of the engine:
    the sets share random numbers and each lands on its own actors."""
    from sim.ensemble.montecarlo import simulate
    from sim.model.outcomes import THRESHOLDS
    from sim.model.params import ParameterSets
    case = toy.cases[0]
    clash = THRESHOLDS.index("militarized_clash")
    for k in range(len(DESIGN)):
        table = {path: [v[k]] for path, v in C.case_table(case, DESIGN, FREE).items()}
        res = simulate(case, runs=RUNS, seed=0, parameters=ParameterSets(case, table))
        assert toy.counts[0, k].tolist() == list(res.outcome_counts().values())
        first = res.first[:, clash]
        assert toy.crossed[0, k, clash] == ((first >= 0) & (first <= 5)).sum()
        assert toy.crossed[0, k, THRESHOLDS.index("war")] == -1  # no observed day


def test_the_toy_runs_do_what_the_parameters_say(toy):
    """Nobody acting leaves every run calm (de-escalated); a coercer free to strike reaches
    force in nearly every run; the middle ground gives at least 5%
    a share to calm, clash and war. The fit tests below rest on this."""
    p = toy.probabilities()[0]
    assert p[0, 0] == 1.0
    assert p[1, 2] + p[1, 3] >= 0.9
    assert min(p[2, 0], p[2, 2], p[2, 3]) >= 0.05


# -------------------------------------------------------------- the fit and the folds ---

@pytest.mark.parametrize("observed, point", [
    ([0, 0, 0], 0),  # all calm: the point where nobody acts
    ([3, 3, 3], 1),  # all war: the coercer free to strike
    ([0, 2, 3], 2),  # one of each: only the middle ground gives each a fair chance
])
def test_the_fit_finds_the_point_that_matches_the_observed_classes(toy, observed, point):
    """The best total log score is at the design point built to produce those classes."""
    log, _ = C.score_table(toy, np.array(observed))
    assert C.best_point(log) == point


def test_folds_by_hand():
    """Four cases, three points: point 1 fits best, and every fold keeps it except case 2's:
    case 2 is the one that likes point 1, and without it the others prefer point 0. Ties go
    to the lower point."""
    log = np.array([[-0.1, -3.0, -3.0],
                    [-1.0, -2.0, -1.0],
                    [-9.0, -0.1, -9.0],
                    [-1.0, -2.0, -1.1]])
    # totals: all (-11.1, -7.1, -14.1); without 0 (-11, -4.1, -11.1); without 1 (-10.1, -5.1,
    # -13.1); without 2 (-2.1, -7, -5.1); without 3 (-10.1, -5.1, -13)
    assert C.folds(log).tolist() == [1, 1, 0, 1]
    assert C.best_point(log) == 1
    assert C.best_point(np.zeros((2, 3))) == 0


def test_a_fold_never_reads_its_held_out_case():
    """Any change to case i's scores leaves case i's own fold unchanged (200 random tables)."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        log = rng.normal(-2, 1, (5, 7))
        before = C.folds(log)
        i = rng.integers(5)
        log[i] = rng.normal(-2, 3, 7)
        assert C.folds(log)[i] == before[i]


# -------------------------------------------------------------- the commands ---

POINTS, CLI_RUNS = 4, 20


def read_csv(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """The toy cases calibrated by the command, with one worker."""
    tmp = tmp_path_factory.mktemp("calibrate")
    cases = write_toys(tmp / "cases")
    proc = run_cli("calibrate", cases, "--points", POINTS, "--runs", CLI_RUNS, "--workers", 1,
                   "--out", tmp / "out", "--quiet", check=0)
    return proc, results_folder(proc), cases


def test_calibrate_writes_its_files_and_the_fit_is_the_best_row_of_design_csv(calibrated):
    """design.csv has K rows and point 0 is the prior; fit.json's point has the highest
    log_total; table.csv holds a row per case and point whose counts sum to the runs."""
    proc, folder, _ = calibrated
    for name in ("design.csv", "table.csv", "fit.json", "manifest.json", "report.html",
                 "charts/profile.png", "charts/profile.svg"):
        assert (folder / name).is_file(), name
    design = read_csv(folder / "design.csv")
    assert len(design) == POINTS
    assert [float(design[0][f.name]) for f in C.FREE] == [f.prior for f in C.FREE]
    fit = json.loads((folder / "fit.json").read_text())
    totals = [float(r["log_total"]) for r in design]
    assert fit["best_point"] == int(np.argmax(totals))
    assert fit["values"] == {f.name: float(design[fit["best_point"]][f.name]) for f in C.FREE}
    table = read_csv(folder / "table.csv")
    assert len(table) == POINTS * len(CLASSES)
    from sim.inputs.scenario import OUTCOME_CLASSES
    assert all(sum(int(r[f"n_{c}"]) for c in OUTCOME_CLASSES) == CLI_RUNS for r in table)
    assert f"fit: point {fit['best_point']}" in proc.stdout


def test_the_table_is_the_same_whatever_the_number_of_workers(calibrated, tmp_path):
    """Two worker processes give design.csv, table.csv and fit.json byte for byte."""
    _, folder, cases = calibrated
    proc = run_cli("calibrate", cases, "--points", POINTS, "--runs", CLI_RUNS, "--workers", 2,
                   "--out", tmp_path, "--quiet", check=0)
    other = results_folder(proc)
    for name in ("design.csv", "table.csv", "fit.json"):
        assert (other / name).read_bytes() == (folder / name).read_bytes(), name


def _cv(cases, out):
    proc = run_cli("backtest", cases, "--cv", "--points", POINTS, "--runs", CLI_RUNS,
                   "--workers", 1, "--out", out, "--quiet", check=0)
    return proc, results_folder(proc)


def test_backtest_cv_scores_each_case_at_a_point_fitted_without_it(calibrated, tmp_path):
    """cases.csv: each case's probabilities are its table.csv row at its cv_point, and that
    point is the best total log score over the other cases (recomputed here from
    table.csv); the same table as escsim calibrate's; scores.json says in and out of sample.
    Recoding the war case's observed class leaves its own fold's point unchanged."""
    _, calibration, cases = calibrated
    proc, folder = _cv(cases, tmp_path / "a")
    assert (folder / "table.csv").read_bytes() == (calibration / "table.csv").read_bytes()
    table = read_csv(folder / "table.csv")
    rows = read_csv(folder / "cases.csv")
    for row in rows:
        others = [r for r in table if r["case"] != row["case"]]
        totals = [sum(float(r["log_score"]) for r in others if int(r["point"]) == k)
                  for k in range(POINTS)]
        assert int(row["cv_point"]) == int(np.argmax(totals)), row["case"]
        mine = next(r for r in table if r["case"] == row["case"]
                    and r["point"] == row["cv_point"])
        assert row["p_observed"] == mine[f"p_{row['observed']}"]
    numbers = json.loads((folder / "scores.json").read_text())
    assert numbers["cross_validation"]["folds"] == {r["case"]: int(r["cv_point"]) for r in rows}
    assert "in_sample" in numbers["cross_validation"]
    assert "OUT-OF-SAMPLE" in proc.stdout
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "out-of-sample" in page and "in-sample" in page
    recoded = write_toys(tmp_path / "recoded", {**CLASSES, "war": "deescalated"})
    _, again = _cv(recoded, tmp_path / "b")
    point = {r["case"]: r["cv_point"] for r in read_csv(again / "cases.csv")}
    assert point["war"] == next(r["cv_point"] for r in rows if r["case"] == "war")


@pytest.mark.parametrize("args, message", [
    (["--points", 10_000, "--runs", 100_000],
     "--points: 10,000 points x 100,000 runs is more than 100,000,000 runs per case"),
    (["--points", 0], "--points: must be between 1 and 10,000, got 0"),
])
def test_too_many_or_too_few_points_are_refused(tmp_path, args, message):
    """Exit 2 with one line; nothing written."""
    cases = write_toys(tmp_path / "cases")
    proc = run_cli("calibrate", cases, *args, "--out", tmp_path / "out", check=2)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_points_without_cv_is_refused(tmp_path):
    """A plain backtest has no design: --points alone is an error, not silently ignored."""
    cases = write_toys(tmp_path / "cases")
    proc = run_cli("backtest", cases, "--points", 3, "--out", tmp_path / "out", check=2)
    assert proc.stderr.startswith("--points: needs --cv")
    assert not (tmp_path / "out").exists()


def test_a_bad_case_is_reported_at_its_line_and_nothing_is_written(tmp_path):
    """A misspelt class in one case: FILE:LINE: observed.outcome with a hint, exit 2, for
    calibrate and backtest --cv alike; no results folder."""
    cases = write_toys(tmp_path / "cases", {**CLASSES, "war": "wra"})
    text = (cases / "war.yaml").read_text()
    for command in (["calibrate"], ["backtest", "--cv"]):
        proc = run_cli(*command, cases, "--out", tmp_path / "out", check=2)
        assert (f"{cases / 'war.yaml'}:{line_of(text, 'wra')}: observed.outcome: must be one "
                "of") in proc.stderr
        assert "did you mean 'war'?" in proc.stderr
        assert not (tmp_path / "out").exists()


def test_the_command_line_limits_are_the_module_s():
    """The parser's defaults repeat calibrate's constants (the CLI does not import it)."""
    from sim import cli
    assert (cli.DEFAULT_POINTS, cli.MAX_POINTS) == (C.DEFAULT_POINTS, C.MAX_POINTS)
