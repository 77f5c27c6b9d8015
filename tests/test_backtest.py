"""escsim backtest: the scores against hand-computed values, and the command on toy cases."""

from __future__ import annotations

import csv
import html
import json
import math
import re

import matplotlib.image as mpimg
import numpy as np
import pytest

from sim.results import scoring
from tests.conftest import BASELINE, line_of, results_folder, run_cli

RUNS, DAYS = 50, 10

# -------------------------------------------------------------- the scores, by hand ---

PERFECT = np.eye(5)[[0, 2, 4]]
UNIFORM = np.full((3, 5), 0.2)
OBSERVED = np.array([0, 2, 4])


def test_a_perfect_forecast_scores_brier_0_and_log_0():
    """All probability on the observed class: no squared error, ln 1 = 0."""
    assert scoring.brier(PERFECT, OBSERVED).tolist() == [0.0, 0.0, 0.0]
    assert scoring.log_score(PERFECT, OBSERVED, floor=0.01).tolist() == [0.0, 0.0, 0.0]


def test_the_uniform_guess_scores_brier_0_8_and_log_minus_ln_5():
    """1/5 each: (4/5)^2 + 4 (1/5)^2 = 0.8 and ln(1/5) whatever happened."""
    assert np.allclose(scoring.brier(UNIFORM, OBSERVED), 0.8)
    assert np.allclose(scoring.log_score(UNIFORM, OBSERVED, floor=0.01), -math.log(5))


def test_brier_and_log_of_a_mixed_forecast():
    """(0.5, 0.3, 0.2, 0, 0) with class 1 observed: 0.25 + 0.49 + 0.04 = 0.78 and ln 0.3;
    all mass on a wrong class is the worst Brier, 2."""
    p = np.array([[0.5, 0.3, 0.2, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0]])
    assert np.allclose(scoring.brier(p, np.array([1, 3])), [0.78, 2.0])
    assert np.allclose(scoring.log_score(p, np.array([1, 0]), floor=0.01), [math.log(0.3), 0.0])


def test_a_class_no_run_reached_is_floored_at_one_over_runs_plus_one():
    """99 runs, none in the observed class: ln(1/100), finite; a larger p is not floored."""
    floor = scoring.run_floor(99)
    assert floor == 1 / 100
    p = np.array([[0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.5, 0.0, 0.0]])
    assert np.allclose(scoring.log_score(p, np.array([0, 2]), floor), [math.log(0.01),
                                                                       math.log(0.5)])


def test_rank_counts_the_classes_given_more_and_ties_share_the_better_rank():
    """Rank 1 is the most likely class; a class tied with others gets their best rank."""
    p = np.array([[0.1, 0.6, 0.3, 0.0, 0.0]] * 3)
    assert scoring.rank(p, np.array([1, 0, 3])).tolist() == [1, 3, 4]


def test_base_rates_give_a_class_never_seen_half_a_crisis():
    """Counts (2, 1, 1, 0, 0) become (2, 1, 1, 0.5, 0.5) / 5."""
    assert np.allclose(scoring.base_rates([2, 1, 1, 0, 0]), [0.4, 0.2, 0.2, 0.1, 0.1])
    assert np.allclose(scoring.base_rates([29, 3, 31, 9, 11]), np.array([29, 3, 31, 9, 11]) / 83)


def test_bootstrap_interval_contains_the_mean_and_matches_the_normal_width():
    """For n = 400 draws the 95% interval is close to the mean +/- 1.96 s / sqrt(n)
    (central limit theorem); the resampling's own error at 10,000 resamples is about 1.5%
    of the width, so 6% is a generous tolerance."""
    values = np.random.default_rng(1).normal(3.0, 2.0, 400)
    mean, lo, hi = scoring.bootstrap(values)
    assert mean == pytest.approx(values.mean())
    assert lo < mean < hi
    normal = 2 * 1.96 * values.std() / math.sqrt(len(values))
    assert hi - lo == pytest.approx(normal, rel=0.06)


def test_bootstrap_interval_shrinks_with_more_cases():
    """Width goes as 1/sqrt(n): 100 times more cases, about 10 times narrower (at least 5);
    cases that all score the same leave no uncertainty."""
    rng = np.random.default_rng(2)
    small, large = rng.normal(0, 1, 20), rng.normal(0, 1, 2000)
    width = [hi - lo for _, lo, hi in map(scoring.bootstrap, (small, large))]
    assert width[1] < width[0] / 5
    assert scoring.bootstrap(np.full(7, 0.8)) == pytest.approx((0.8, 0.8, 0.8))


def test_bootstrap_is_the_same_for_the_same_values():
    """A fixed seed: the intervals of a backtest do not change from one call to the next."""
    values = np.arange(12.0)
    assert scoring.bootstrap(values) == scoring.bootstrap(values)


def test_reliability_bins_count_every_case_and_class_pair():
    """Two cases, ten pairs: five at 0 (one observed), two at 0.25 (none), three at 0.5
    (one observed); no pair at 0.75 or more."""
    p = np.array([[0.5, 0.0, 0.5, 0.0, 0.0], [0.0, 0.25, 0.25, 0.5, 0.0]])
    _, predicted, frequency, pairs, hits = scoring.reliability(p, np.array([0, 4]), bins=4)
    assert pairs.tolist() == [5, 2, 3, 0]  # bins [0, .25) [.25, .5) [.5, .75) [.75, 1]
    assert hits.tolist() == [1, 0, 1, 0]
    assert np.allclose(frequency[:3], [1 / 5, 0, 1 / 3])
    assert np.allclose(predicted[:3], [0.0, 0.25, 0.5])
    assert np.isnan(frequency[3])


# -------------------------------------------------------------- the command ---

CASES = {  # name: the observed block, under a horizon of DAYS days
    "alpha": """
observed:
  outcome: militarized_clash
  alternative: war
  first_days: {militarized_clash: 4}
  sources:
    - url: https://example.org/alpha
      title: Alpha
""",
    "bravo": """
observed:
  outcome: frozen
  sources:
    - url: https://example.org/bravo
""",
    "charlie": """
observed:
  outcome: deescalated
  first_days: {deescalated: 9}
  sources:
    - url: https://example.org/charlie
""",
}
BASE_RATES = """reference_class: test crises
source: counts chosen for this test
mapping: none
counts: {deescalated: 5, frozen: 3, militarized_clash: 2, war: 0, great_power_confrontation: 0}
total: 10
"""


def write_cases(folder, cases=CASES):
    """Toy cases derived from the shipped baseline, with a base-rate table and a README."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in cases.items():
        (folder / f"{name}.yaml").write_text(
            f"extends: {BASELINE}\nhorizon_days: {DAYS}\n{body}", encoding="utf-8")
    (folder / "plain.yaml").write_text(f"extends: {BASELINE}\n", encoding="utf-8")
    (folder / "icb_base_rates.yaml").write_text(BASE_RATES, encoding="utf-8")
    (folder / "README.md").write_text("# Toy cases\n\nThree toy cases, chosen\nfor a test.\n\n"
                                      "Not this paragraph.\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def backtested(tmp_path_factory):
    """One backtest of the toy cases: the process and its results folder."""
    tmp = tmp_path_factory.mktemp("backtest")
    cases = write_cases(tmp / "cases")
    proc = run_cli("backtest", cases, "--runs", RUNS, "--workers", 1, "--out", tmp / "out",
                   "--quiet", check=0)
    return proc, results_folder(proc), cases


def read_cases_csv(folder) -> list[dict]:
    with open(folder / "cases.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_backtest_writes_its_files_and_leaves_out_files_without_observed(backtested):
    """The folder holds every promised file; a scenario without observed: is noted, not run."""
    proc, folder, cases = backtested
    for name in ("cases.csv", "scores.json", "manifest.json", "report.html",
                 "charts/reliability.png", "charts/reliability.svg", "charts/cases.png",
                 "charts/cases.svg"):
        assert (folder / name).is_file(), name
    assert f"note: {cases / 'plain.yaml'}: left out (no observed: block)" in proc.stdout
    assert [r["case"] for r in read_cases_csv(folder)] == sorted(CASES)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["cases"]) == sorted(CASES)


def test_case_probabilities_are_the_shares_of_the_same_runs_simulated_directly(backtested):
    """cases.csv's class probabilities equal the outcome shares of run 0..49 with seed 0,
    simulated in memory through the other path of the engine."""
    from sim.ensemble.montecarlo import simulate
    from sim.inputs.scenario import OUTCOME_CLASSES, load_scenario
    _, folder, cases = backtested
    for row in read_cases_csv(folder):
        counts = simulate(load_scenario(cases / f"{row['case']}.yaml"), runs=RUNS,
                          seed=0).outcome_counts()
        assert [float(row[f"p_{c}"]) for c in OUTCOME_CLASSES] == \
            [n / RUNS for n in counts.values()]
        assert float(row["p_observed"]) == float(row[f"p_{row['observed']}"])


def test_cases_csv_scores_follow_from_its_own_probabilities(backtested):
    """Brier and log score of each row, recomputed here from the row's probabilities."""
    from sim.inputs.scenario import OUTCOME_CLASSES
    _, folder, _ = backtested
    for row in read_cases_csv(folder):
        p = [float(row[f"p_{c}"]) for c in OUTCOME_CLASSES]
        hit = [c == row["observed"] for c in OUTCOME_CLASSES]
        squares = sum((a - b) ** 2 for a, b in zip(p, hit, strict=True))
        assert float(row["brier"]) == pytest.approx(squares, abs=1e-6)
        mine = max(float(row["p_observed"]), 1 / (RUNS + 1))
        assert float(row["log_score"]) == pytest.approx(math.log(mine), abs=1e-6)
        assert int(row["rank"]) == 1 + sum(q > float(row["p_observed"]) for q in p)
    alpha = next(r for r in read_cases_csv(folder) if r["case"] == "alpha")
    assert alpha["p_alternative"] == alpha["p_war"] and alpha["day_militarized_clash"] == "4"
    assert alpha["p_war_by_day"] == ""  # no observed day: nothing to score


def test_scores_json_means_are_the_means_of_cases_csv(backtested):
    """The overall scores are the case means; the uniform guess scores 0.8 and -ln 5; the
    base rates are the test's counts with the zero classes at half a crisis."""
    _, folder, _ = backtested
    rows = read_cases_csv(folder)
    numbers = json.loads((folder / "scores.json").read_text())
    observed = numbers["observed"]
    for score, column in (("brier", "brier"), ("log", "log_score")):
        mean = sum(float(r[column]) for r in rows) / len(rows)
        assert observed[score]["model"]["mean"] == pytest.approx(mean, abs=1e-5)
        lo, hi = observed[score]["model"]["ci95"]
        assert lo <= observed[score]["model"]["mean"] <= hi
    assert observed["brier"]["uniform"]["mean"] == pytest.approx(0.8)
    assert observed["log"]["uniform"]["mean"] == pytest.approx(-math.log(5), abs=1e-6)
    assert numbers["base_rates"]["probabilities"]["war"] == pytest.approx(0.5 / 11, abs=1e-6)
    difference = observed["brier"]["model_minus_base_rates"]["mean"]
    assert difference == pytest.approx(observed["brier"]["model"]["mean"]
                                       - observed["brier"]["base_rates"]["mean"], abs=1e-5)
    assert numbers["alternative"]["cases_recoded"] == 1


def _cells(section: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>")[1], re.S)
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in rows]


def test_report_numbers_equal_cases_csv_and_state_the_selection_rule(backtested):
    """The report's per-case table shows cases.csv's own text; the README's first paragraph
    is the selection note; the caveats are there."""
    _, folder, _ = backtested
    page = (folder / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="cases">'):page.index('<section id="charts">')]
    shown = _cells(section.split("</table>")[0])
    columns = ["case", "observed", "p_observed", "rank", "brier", "log_score", "alternative",
               "p_alternative"]
    assert shown == [[r[c] for c in columns] for r in read_cases_csv(folder)]
    assert "Three toy cases, chosen for a test." in page
    assert "Not this paragraph" not in page
    assert 'id="caveats"' in page and "in-sample" in page
    assert "src=\"http" not in page  # self-contained: charts are inlined


def test_stdout_lists_each_case_and_the_scores(backtested):
    """The printed table: every case with its observed class, p(observed) and rank."""
    proc, folder, _ = backtested
    for row in read_cases_csv(folder):
        assert re.search(rf"^  {row['case']} +{row['observed']} +"
                         rf"{float(row['p_observed']):.3f} +{row['rank']}$", proc.stdout, re.M)
    assert "ICB base rates" in proc.stdout and "model - base rates" in proc.stdout


def test_reliability_chart_is_not_blank(backtested):
    """The PNG has a drawing: pixels vary and some are coloured (the points)."""
    _, folder, _ = backtested
    for name in ("reliability", "cases"):
        img = mpimg.imread(folder / "charts" / f"{name}.png")
        assert img[..., :3].std() > 0.05
        assert (np.abs(img[..., 0] - img[..., 2]) > 0.1).mean() > 0.002


def test_a_bad_observed_class_is_reported_at_its_line_and_nothing_is_written(tmp_path):
    """A misspelt class: FILE:LINE: observed.outcome with a hint, exit 2, no results folder."""
    cases = write_cases(tmp_path / "cases", {**CASES, "bravo": CASES["bravo"].replace(
        "outcome: frozen", "outcome: frozne")})
    proc = run_cli("backtest", cases, "--runs", RUNS, "--out", tmp_path / "out", check=2)
    text = (cases / "bravo.yaml").read_text()
    assert (f"{cases / 'bravo.yaml'}:{line_of(text, 'frozne')}: observed.outcome: must be one "
            "of") in proc.stderr
    assert "did you mean 'frozen'?" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing", "no such folder"),
    (lambda d: write_cases(d / "cases", {}), "no case file with an observed: block"),
])
def test_a_missing_folder_or_one_without_cases_is_refused(tmp_path, make, message):
    """Exit 2 with one line naming the folder; nothing written."""
    folder = make(tmp_path)
    proc = run_cli("backtest", folder, "--out", tmp_path / "out", check=2)
    assert proc.stderr.startswith(f"{folder}: {message}")
    assert not (tmp_path / "out").exists()


def test_a_base_rate_table_whose_total_is_wrong_is_refused(tmp_path):
    """The table's total must be the sum of the counts: reported at its line, exit 2."""
    cases = write_cases(tmp_path / "cases")
    table = cases / "icb_base_rates.yaml"
    table.write_text(BASE_RATES.replace("total: 10", "total: 12"))
    proc = run_cli("backtest", cases, "--out", tmp_path / "out", check=2)
    assert f"{table}:5: total: must be the sum of the counts, 10, got 12" in proc.stderr


def test_same_numbers_whatever_the_number_of_workers(backtested, tmp_path):
    """Two worker processes give cases.csv and scores.json byte for byte as one does."""
    _, folder, cases = backtested
    proc = run_cli("backtest", cases, "--runs", RUNS, "--workers", 2, "--out", tmp_path,
                   "--quiet", check=0)
    other = results_folder(proc)
    for name in ("cases.csv", "scores.json"):
        assert (other / name).read_bytes() == (folder / name).read_bytes(), name
