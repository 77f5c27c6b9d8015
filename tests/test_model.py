"""The model's core: the logit rule, run-level reproducibility, the Council's procedure."""

from __future__ import annotations

import numpy as np
import pytest

from sim.ensemble.montecarlo import simulate
from sim.model.day import BLOCK, _block_draw
from sim.model.model import EscalationModel
from sim.model.rng import RunStreams


def choices(utility, feasible, rationality, draws, nests=None) -> np.ndarray:
    """The compiled day's choice for each uniform number in ``draws`` (one run each);
    ``nests`` gives each row's nest (default: each row its own, the plain logit)."""
    runs, rows = len(draws), len(utility)
    nest = np.arange(rows) if nests is None else np.asarray(nests, dtype=np.int64)
    count = int(nest.max()) + 1
    picks = []
    for start in range(0, runs, BLOCK):
        size = min(BLOCK, runs - start)
        u = np.tile(np.array(utility, dtype=float).reshape(-1, 1), (1, BLOCK))
        ok = np.tile(np.array(feasible, dtype=bool).reshape(-1, 1), (1, BLOCK))
        pick = np.empty(BLOCK, dtype=np.int64)
        _block_draw(u, ok, ok.any(axis=1), np.arange(rows), ok.any(axis=1), rows, rows, size,
                    np.full(BLOCK, float(rationality)),
                    np.asarray(draws[start:start + size], dtype=float), pick, np.empty(BLOCK),
                    np.empty(BLOCK), np.empty(BLOCK, dtype=np.int64), nest, count,
                    np.empty((count, BLOCK)), np.empty((count, BLOCK)))
        picks.extend(pick[:size].tolist())
    return np.array(picks)


GRID = (np.arange(30_000) + 0.5) / 30_000
"""Evenly spaced uniform numbers: an inverse-CDF draw over them hits each candidate in
proportion to its probability, to within one grid step."""


def logit(utility, feasible, rationality) -> np.ndarray:
    """P(c) proportional to exp(rationality U(c)) over feasible c, computed here directly."""
    w = np.where(feasible, np.exp(rationality * (np.array(utility) - max(utility))), 0.0)
    return w / w.sum()


def test_zero_rationality_is_uniform_over_feasible_moves():
    picks = choices([5.0, -3.0, 0.2, 9.0], [True, True, False, True], 0.0, GRID)
    freq = np.bincount(picks, minlength=4) / len(GRID)
    np.testing.assert_allclose(freq, [1 / 3, 1 / 3, 0, 1 / 3], atol=2 / len(GRID))


def test_logit_odds_are_exponential_in_utility_differences():
    utility = [0.0, 1.0, 2.5]
    freq = np.bincount(choices(utility, [True] * 3, 2.0, GRID), minlength=3) / len(GRID)
    np.testing.assert_allclose(freq, logit(utility, [True] * 3, 2.0), atol=2 / len(GRID))
    assert freq[1] / freq[0] == pytest.approx(np.exp(2.0), rel=0.01)


def test_a_rung_is_no_likelier_for_having_more_entries():
    """Nested choice (Train 2009, ch. 4): a nest of three equally good moves is drawn
    as often as a nest of one move as good, and each of the three a third of that."""
    utility = [0.0, 1.0, 1.0, 1.0, 1.0]
    nests = [0, 1, 2, 2, 2]
    freq = np.bincount(choices(utility, [True] * 5, 1.0, GRID, nests), minlength=5) / len(GRID)
    e = np.exp(1.0)
    np.testing.assert_allclose(freq, [1 / (1 + 2 * e), e / (1 + 2 * e)] + [e / (1 + 2 * e) / 3] * 3,
                               atol=2 / len(GRID))
    plain = np.bincount(choices(utility, [True] * 5, 1.0, GRID), minlength=5) / len(GRID)
    assert plain[2:].sum() > 2.5 * plain[1]  # without nests the three crowd the one out


def test_high_rationality_is_best_response():
    picks = choices([0.0, 1.0, 0.9], [True] * 3, 200.0, GRID)
    assert (picks == 1).all()


def test_infeasible_moves_are_never_drawn_even_at_the_edge():
    """A draw at the top of [0, 1) still lands on a feasible move, never on an
    infeasible one after it."""
    picks = choices([0.0, 1.0, 3.0], [True, True, False], 1.0, [0.0, 0.5, 1 - 2**-53])
    assert set(picks) <= {0, 1}


def test_draw_frequencies_match_probabilities():
    """Logit draws with counter-based uniforms: each frequency within 4 standard
    errors of its probability (n = 200,000)."""
    n = 200_000
    utility, feasible = [0.0, 5.0, 1.7, 1.2], [True, False, True, True]
    probs = logit(utility, feasible, 1.0)
    u = RunStreams(3, np.arange(n)).uniform(1, 0)
    freq = np.bincount(choices(utility, feasible, 1.0, u), minlength=4) / n
    se = np.sqrt(probs * (1 - probs) / n)
    assert (np.abs(freq - probs) <= 4 * se + 1e-12).all()
    assert freq[1] == 0


# Critical values at the 5% level, from tables: Kolmogorov-Smirnov, large n, 1.36/sqrt(n)
# (Massey 1951, "The Kolmogorov-Smirnov test for goodness of fit", JASA 46:68-78, Table 1);
# chi-square with 99 degrees of freedom, 123.225 (NIST/SEMATECH e-Handbook of Statistical
# Methods, 1.3.6.7.4, https://www.itl.nist.gov/div898/handbook/eda/section3/eda3674.htm).
KS_5_PERCENT = 1.36
CHI2_99_5_PERCENT = 123.225


def ks_distance_from_uniform(u: np.ndarray) -> float:
    """Largest gap between the empirical CDF of ``u`` and the uniform CDF."""
    x = np.sort(u)
    n = len(x)
    return float(max((np.arange(1, n + 1) / n - x).max(), (x - np.arange(n) / n).max()))


def chi_square(counts: np.ndarray) -> float:
    """Pearson's statistic of ``counts`` against equal expected counts."""
    expected = counts.sum() / counts.size
    return float(((counts - expected) ** 2 / expected).sum())


def test_uniforms_are_uniform_and_independent_across_slots():
    """100,000 runs, fixed seed: each stream (two slots of one day, and the next day) passes
    a Kolmogorov-Smirnov test against U(0, 1) at 5%; each pair of streams passes a chi-square
    test of independence on a 10 x 10 grid (99 d.f.) at 5%, and their correlations are within
    4/sqrt(n). A generator that only got the mean right (say u + 0.05 sin(2 pi u), or the
    same bits reused across slots) fails."""
    n = 100_000
    streams = RunStreams(99, np.arange(n))
    draws = [streams.uniform(5, 0), streams.uniform(5, 1), streams.uniform(6, 0)]
    for u in draws:
        assert ((u >= 0) & (u < 1)).all()
        assert ks_distance_from_uniform(u) < KS_5_PERCENT / np.sqrt(n)
    for k, a in enumerate(draws):
        for b in draws[k + 1:]:
            grid = np.histogram2d(a, b, bins=10, range=[[0, 1], [0, 1]])[0]
            assert chi_square(grid) < CHI2_99_5_PERCENT
            assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(n)


def test_the_uniformity_checks_reject_a_uniform_with_only_the_right_mean():
    """The checks above have teeth: a stream with mean 1/2 but the wrong shape fails KS, and
    a copy of one slot's draws fails the independence check."""
    n = 100_000
    u = RunStreams(99, np.arange(n)).uniform(5, 0)
    bent = (u + 0.05 * np.sin(2 * np.pi * u)) % 1.0
    assert abs(bent.mean() - 0.5) < 4 * np.sqrt(1 / 12 / n)
    assert ks_distance_from_uniform(bent) > KS_5_PERCENT / np.sqrt(n)
    grid = np.histogram2d(u, (u + 0.37) % 1.0, bins=10, range=[[0, 1], [0, 1]])[0]
    assert chi_square(grid) > CHI2_99_5_PERCENT


def test_run_k_is_run_k_whatever_the_batch(baseline):
    """Run 37 simulated alone, in a batch of 100, and in a batch starting at 30 is the same
    run: every per-run result and the whole index trajectory are bit-identical."""
    alone = simulate(baseline, runs=1, seed=5, first_run=37)
    batch = simulate(baseline, runs=100, seed=5)
    chunks = simulate(baseline, runs=20, seed=5, first_run=30, batch_size=3)
    for other, pos in ((batch, 37), (chunks, 7)):
        assert other.run[pos] == 37
        assert other.outcome[pos] == alone.outcome[0]
        assert (other.first[pos] == alone.first[0]).all()
        assert (other.peak[pos] == alone.peak[0]).all()
        assert other.casualties[pos] == alone.casualties[0]
        assert (other.index_by_day[pos] == alone.index_by_day[0]).all()


def test_seed_matters(baseline):
    a = simulate(baseline, runs=200, seed=1)
    b = simulate(baseline, runs=200, seed=2)
    assert not np.array_equal(a.index_by_day, b.index_by_day)


def test_state_levels_stay_on_the_ladder(baseline):
    model = EscalationModel(baseline, runs=300, seed=3)
    for _ in range(30):
        model.step()
        assert model.level.min() >= 0 and model.level.max() <= 7
        assert (model.hostility >= 0).all() and (model.assets >= 0).all()
        assert (model.level[:, ~model.is_state, :] == 0).all()


def test_datacollector_records_every_day(baseline):
    model = EscalationModel(baseline, runs=50, seed=3, days=10)
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame["day"]) == list(range(11))
    assert np.isclose(frame["mean_index"].iloc[-1], model.index.mean())


def council_variant(variant, baseline, yes: float, members: int, never: int = 0):
    """A Council of ``members`` non-agent seats voting yes with probability ``yes``, but
    ``never`` of them that always vote no (the baseline's seats are removed with null,
    as docs/scenario-format.md explains)."""
    seated = baseline.spec.actors["UNSC"].council.members
    drop = "".join(f"        {name}: null\n" for name in seated)
    seats = "".join(f"        M{k}: {{yes_probability: {0.0 if k < never else yes}}}\n"
                    for k in range(members))
    return variant("actors:\n  UNSC:\n    council:\n      votes_to_pass: 9\n"
                   "      members:\n" + drop + seats)


def votes_of(path, runs=400, days=30):
    from sim.inputs.scenario import load_scenario
    scenario = load_scenario(path)
    model = EscalationModel(scenario, runs=runs, seed=4, days=days, record=True)
    model.run()
    votes = [v[1:] for v in model.vote_log()]
    return model, votes


def test_draft_passes_with_nine_votes_and_no_veto(baseline):
    model, votes = votes_of(baseline.path, runs=600)
    assert votes, "no draft was ever put to a vote"
    for _run, _target, yes, vetoes, passed in votes:
        assert passed == (yes >= 9 and not vetoes)
    assert any(v[3] for v in votes), "no veto was ever cast"
    permanent = {name for name, seat in baseline.spec.actors["UNSC"].council.members.items()
                 if seat.permanent}
    assert all(set(v[3]) <= permanent for v in votes)


def test_resolution_marks_its_target(baseline):
    model, votes = votes_of(baseline.path, runs=600)
    passed = {(run, target) for run, target, _, _, ok in votes if ok}
    marked = {(r, t) for r, t in zip(*np.nonzero(model.resolution), strict=True)}
    assert passed == marked


def test_unanimous_council_without_vetoes_always_adopts(variant, baseline):
    path = council_variant(variant, baseline, yes=1.0, members=10)
    _, votes = votes_of(path)
    assert votes and all(v[2] == 10 and v[4] for v in votes)


def test_eight_yes_votes_never_suffice(variant, baseline):
    path = council_variant(variant, baseline, yes=1.0, members=15, never=7)
    _, votes = votes_of(path)
    assert votes and all(v[2] == 8 and not v[4] for v in votes)


def test_the_days_own_exponential_is_accurate_to_a_few_ulps():
    """The compiled day's logit weights use an exponential of its own (the same bits on
    every machine): over 20,000 utilities spread across the range it meets, each weight
    (what the draw leaves in place of the utility) is within 4 units in the last place of
    the C library's exp."""
    rng = np.random.default_rng(2)
    rows = 20_000 // BLOCK
    u = -rng.exponential(30.0, (rows, BLOCK))  # (candidates, runs)
    u[0] = 0.0  # each run's best candidate
    want = np.exp(u)
    ok = np.ones(u.shape, dtype=bool)
    everywhere = np.ones(rows, dtype=bool)
    _block_draw(u, ok, everywhere, np.arange(rows), everywhere, rows, rows, BLOCK, np.ones(BLOCK),
                np.full(BLOCK, 0.5), np.empty(BLOCK, dtype=np.int64), np.empty(BLOCK),
                np.empty(BLOCK), np.empty(BLOCK, dtype=np.int64), np.arange(rows), rows,
                np.empty((rows, BLOCK)), np.empty((rows, BLOCK)))
    ulps = np.abs(u - want) / np.spacing(want)
    assert (want > 0).sum() > 0.9 * want.size and ulps.max() <= 4, ulps.max()


def test_a_permanent_seat_vetoes_by_the_drafts_target(variant):
    """With veto_probability_by_target, a permanent non-agent seat that never votes yes
    vetoes every draft against one state and none against another (400 runs, a draft on
    each tabled by schedule): a patron shields its client, not whoever is the target. The
    Council, anticipating the certain veto, never tables a draft on VEN of its own accord."""
    from sim.inputs.scenario import load_scenario
    path = variant("actors:\n  UNSC:\n    council:\n      members:\n        CHN:\n"
                   "          yes_probability: 0.0\n          yes_probability_by_target: null\n"
                   "          veto_probability: 1.0\n"
                   "          veto_probability_by_target: {USA: 0.0, VEN: 1.0}\n"
                   "schedule:\n"
                   "  - {day: 1, actor: UNSC, action: convene_meeting}\n"
                   "  - {day: 2, actor: UNSC, action: draft_resolution, target: VEN}\n"
                   "  - {day: 3, actor: UNSC, action: draft_resolution, target: USA}\n")
    model = EscalationModel(load_scenario(path), runs=400, seed=4, days=30, record=True)
    model.run()
    ids = model.actor_ids
    by_target: dict[str, list[bool]] = {}
    chosen_on_ven = 0
    for day, _run, target, _yes, vetoes, _passed in model.vote_log():
        by_target.setdefault(ids[target], []).append("CHN" in vetoes)
        chosen_on_ven += day != 2 and ids[target] == "VEN"
    assert len(by_target.get("VEN", [])) >= 400 and all(by_target["VEN"]), "VEN drafts vetoed"
    assert by_target.get("USA") and not any(by_target["USA"]), "no draft on USA vetoed"
    assert chosen_on_ven == 0
