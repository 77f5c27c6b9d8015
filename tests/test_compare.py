"""`escsim compare`: common random numbers, paired differences, robustness, the report."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

from sim.catalogue import SCHEMES
from sim.compare import COMPARE_CHARTS
from sim.outcomes import OUTCOMES
from tests.conftest import BASELINE, ROOT, SCENARIOS, run_cli
from tests.test_charts import parse

RUNS, SEED, DAYS = 400, 21, 30
STRONG = next(p for p in SCENARIOS if p.name == "caribbean-2025-strong-russia.yaml")


def compare_folder(proc):
    match = re.search(r"^results: (.+)$", proc.stdout, re.M)
    assert match, proc.stdout + proc.stderr
    return ROOT / match.group(1)


@pytest.fixture(scope="module")
def self_compare(tmp_path_factory):
    out = tmp_path_factory.mktemp("self")
    proc = run_cli("compare", BASELINE, BASELINE, "--runs", RUNS, "--seed", SEED, "--days",
                   DAYS, "--out", out, "--workers", 1, "--quiet", check=0)
    return compare_folder(proc), proc.stdout


@pytest.fixture(scope="module")
def policy_compare(tmp_path_factory):
    out = tmp_path_factory.mktemp("policy")
    proc = run_cli("compare", BASELINE, STRONG, "--runs", RUNS, "--seed", SEED, "--days",
                   DAYS, "--out", out, "--quiet", check=0)
    return compare_folder(proc)


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(self_compare):
    folder, stdout = self_compare
    cmp = json.loads((folder / "comparison.json").read_text())
    assert cmp["runs"] == RUNS and cmp["seed"] == SEED and cmp["days"] == DAYS
    for o in OUTCOMES:
        a, b = cmp["outcomes"][o]["probability"]
        assert a == b
        assert cmp["outcomes"][o]["difference"][1] == {"mean": 0.0, "ci95": [0.0, 0.0]}
    for s in SCHEMES:
        assert cmp["peak_index"][s]["difference"][1] == {"mean": 0.0, "ci95": [0.0, 0.0]}
    assert cmp["robustness"]["ranking_holds"]
    first, second = (folder / name / "runs.csv" for name in cmp["folders"])
    assert first.read_bytes() == second.read_bytes()
    assert stdout.count("+0.0 points, 95% CI [+0.0, +0.0]") == len(OUTCOMES)


def test_compare_runs_are_the_runs_of_escsim_run(policy_compare, tmp_path):
    """Common random numbers: each scenario's runs are exactly its own `escsim run`."""
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    proc = run_cli("run", STRONG, "--runs", RUNS, "--seed", SEED, "--days", DAYS, "--out",
                   tmp_path, "--quiet", check=0)
    alone = ROOT / re.search(r"^results: (.+)$", proc.stdout, re.M).group(1)
    inside = policy_compare / cmp["folders"][1]
    assert (inside / "runs.csv").read_bytes() == (alone / "runs.csv").read_bytes()
    assert (inside / "summary.json").read_bytes() == (alone / "summary.json").read_bytes()


def read_runs(path):
    return list(csv.DictReader(open(path, encoding="utf-8")))


def test_paired_differences_match_an_independent_computation(policy_compare):
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    a, b = (read_runs(policy_compare / name / "runs.csv") for name in cmp["folders"])
    for o in OUTCOMES:
        d = np.array([(rb["outcome"] == o) - (ra["outcome"] == o)
                      for ra, rb in zip(a, b, strict=True)])
        half = 1.959963984540054 * d.std(ddof=1) / np.sqrt(len(d))
        got = cmp["outcomes"][o]["difference"][1]
        assert got["mean"] == pytest.approx(d.mean(), abs=1e-6)
        assert got["ci95"] == pytest.approx([d.mean() - half, d.mean() + half], abs=1e-6)
    for s in SCHEMES:
        d = np.array([float(rb[f"peak_index_{s}"]) - float(ra[f"peak_index_{s}"])
                      for ra, rb in zip(a, b, strict=True)])
        assert cmp["peak_index"][s]["difference"][1]["mean"] == pytest.approx(d.mean(),
                                                                              abs=1e-6)


def test_common_random_numbers_narrow_the_interval(policy_compare):
    """Pairing helps: the paired interval of the great-power difference is narrower than
    the interval the same two probabilities would get from independent samples."""
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    row = cmp["outcomes"]["great-power confrontation"]
    pa, pb = row["probability"]
    lo, hi = row["difference"][1]["ci95"]
    unpaired = 1.959963984540054 * np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / cmp["runs"])
    assert (hi - lo) / 2 < unpaired
    assert lo > 0  # firmer Russian backing: more US-Russia confrontations, beyond noise


def test_robustness_table_ranks_under_every_scheme(policy_compare):
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    by_scheme = cmp["robustness"]["by_scheme"]
    assert set(by_scheme) == set(SCHEMES)
    for s, row in by_scheme.items():
        means = [m["mean"] for m in cmp["peak_index"][s]["mean"]]
        expected = [name for _, name in sorted(zip(means, cmp["scenarios"], strict=True),
                                               key=lambda mn: -mn[0])]
        assert row["ranking"] == expected, s
    holds = len({tuple(r["ranking"]) for r in by_scheme.values()}) == 1
    assert cmp["robustness"]["ranking_holds"] == holds


def test_comparison_report_and_charts(policy_compare):
    page = parse(policy_compare / "compare.html")
    assert {img["data-chart"] for img in page.images} == {name for name, _, _ in COMPARE_CHARTS}
    text = " ".join(" ".join(page.text).split())
    assert "caribbean-2025-strong-russia" in text and "Robustness" in text
    assert "escsim compare" in text
    html = (policy_compare / "compare.html").read_text(encoding="utf-8")
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    for name in cmp["folders"]:
        assert f'href="{name}/report.html"' in html
        assert (policy_compare / name / "report.html").is_file()
    import matplotlib.image as mpimg
    for name, _, _ in COMPARE_CHARTS:
        img = mpimg.imread(policy_compare / "charts" / f"{name}.png")
        assert img[..., :3].std() > 0.05
        assert (policy_compare / "charts" / f"{name}.svg").is_file()


def test_comparison_replots_under_another_scheme(policy_compare):
    proc = run_cli("plot", policy_compare, "--scoring", "mid", check=0)
    assert "compare-mid.html" in proc.stdout
    page = parse(policy_compare / "compare-mid.html")
    assert len(page.images) == len(COMPARE_CHARTS)
    assert (policy_compare / "charts-mid" / "compare_fan.png").is_file()


def test_compare_reports_every_bad_file_and_writes_nothing(tmp_path, variant):
    bad = variant("horizon_days: -3\n", name="bad.yaml")
    worse = variant("memory: {decay: 2}\n", name="worse.yaml")
    proc = run_cli("compare", BASELINE, bad, worse, "--runs", 10, "--out", tmp_path, check=2)
    assert "bad.yaml" in proc.stderr and "horizon_days" in proc.stderr
    assert "worse.yaml" in proc.stderr and "memory.decay" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not any(tmp_path.glob("compare*"))
