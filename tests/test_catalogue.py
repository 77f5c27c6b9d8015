"""The action catalogue's declared metadata is what the model does.

Each test takes the declarations from ``sim/inputs/data/actions.yaml`` and shows the
model honouring them: the ladder level an act sets, the memory it leaves, the
escalation index it adds under every scoring scheme, its preconditions and
its effects.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.inputs import catalogue
from sim.inputs.catalogue import SCHEMES
from sim.model.day import NEVER
from sim.model.model import HOLD, EscalationModel

CAT = catalogue.load()
STATE_ACTIONS = [a for a in CAT.actions if "state" in a.actors and a.target == "state"
                 and not a.requires.vote_only]

# GDELT's CAMEO Goldstein table (Goldstein 1992; the CAMEO 1.1b3 codebook,
# http://data.gdeltproject.org/documentation/CAMEO.Manual.1.1b3.pdf). Typed here independently of
# the catalogue so that a wrong weight in actions.yaml is caught.
GOLDSTEIN = {
    "010": 0.0, "026": 4.0, "028": 4.0, "0256": -0.3, "032": 4.5, "040": 1.0, "041": 1.0,
    "045": 5.0, "046": 7.0, "051": 3.4, "052": 3.5, "053": 3.8, "072": 8.3, "0842": 7.0,
    "0871": 9.0, "093": -2.0, "037": 5.0, "080": 5.0, "139": -7.0, "181": -9.0,
    "100": -5.0, "111": -2.0, "112": -2.0, "120": -4.0, "129": -5.0,
    "130": -4.4, "138": -7.0, "150": -7.2, "152": -7.2, "154": -7.2, "161": -4.0, "163": -8.0,
    "171": -9.2, "1711": -9.2, "190": -10.0, "191": -9.5, "195": -10.0,
}
# PLOVER types each CAMEO root may map to (PLOVER codebook's CAMEO crosswalk).
PLOVER_BY_ROOT = {
    "01": {None}, "02": {"REQUEST"}, "03": {"AGREE"}, "04": {"CONSULT"},
    "05": {"SUPPORT", "AGREE", "COOPERATE"}, "06": {"COOPERATE"}, "07": {"AID"},
    "08": {"CONCEDE", "RETREAT"}, "09": {"ACCUSE"}, "10": {"REQUEST"}, "11": {"ACCUSE"},
    "12": {"REJECT"}, "13": {"THREATEN"}, "14": {"PROTEST"}, "15": {"MOBILIZE"},
    "16": {"SANCTION"}, "17": {"COERCE"}, "18": {"ASSAULT"}, "19": {"ASSAULT", "COERCE"},
    "20": {"ASSAULT"},
}


def test_every_code_of_the_reference_table_is_an_action():
    """Every code of the reference table (GDELT's Goldstein table, plus the few the catalogue
    adds) is the code of some action."""
    assert set(GOLDSTEIN) <= {a.cameo for a in CAT.actions}


def test_catalogue_is_broad_enough():
    states = [a for a in CAT.actions if "state" in a.actors]
    assert len(states) >= 25
    assert {"cooperation", "diplomacy", "coercion", "force"} <= {a.category for a in states}
    council = {a.id for a in CAT.actions if "institution" in a.actors}
    assert {"convene_meeting", "call_for_restraint", "draft_resolution", "good_offices",
            "fact_finding"} <= council


@pytest.mark.parametrize("action", CAT.actions, ids=lambda a: a.id)
def test_codes_and_weights(action):
    assert action.goldstein == GOLDSTEIN[action.cameo]
    assert action.plover in PLOVER_BY_ROOT[action.cameo[:2]]


def test_severity_schemes_agree_where_they_should():
    """Escsim's ladder orders hostile acts as the MID scale does; Rivera's classes and
    Kahn's rungs order some acts differently (sanctions above threats), which is why
    results can be re-scored under each scheme."""
    hostile = [a for a in CAT.actions if a.level > 0]
    for a in hostile:
        for b in hostile:
            if a.level > b.level:
                assert a.severity.mid >= b.severity.mid, (a.id, b.id)
        assert (a.severity.rivera == 28) == (a.plover == "ASSAULT"), a.id  # violent
    for a in hostile:
        assert (a.severity.mid >= 3) == (a.level >= 4), a.id  # display of force or worse
        assert (a.severity.mid == 5) == (a.level == 7), a.id  # war


def fresh(baseline, runs=4, scheme=None):
    """A model of the baseline without its schedule (every move here is forced)."""
    update = {"schedule": ()} | ({"scoring": scheme} if scheme else {})
    scenario = dataclasses.replace(baseline, spec=baseline.spec.model_copy(update=update))
    return EscalationModel(scenario, runs=runs, seed=1)


def play(model, actor, action, target):
    """Step one day with ``actor`` forced to ``action`` and everyone else holding."""
    for aid in model.actor_ids:
        model.force(aid, None)
    model.force(actor, action, target)
    model.step()


def satisfy(model, action, i, j):
    """Put every run in a state where ``action`` by i against j is allowed."""
    req = action.requires
    need = max(req.min_level or 0, 0)
    model.level[:, i, j] = max(model.level[0, i, j], need)
    if req.min_level_against_actor:
        model.level[:, j, i] = req.min_level_against_actor
    if req.target_under_pressure:
        k = next(k for k in range(model.n_actors) if k not in (i, j) and model.is_state[k])
        model.level[:, k, j] = req.target_under_pressure
    if req.holds_assets:
        model.assets[:, i, j] = 1
    if req.min_level_by_target:
        model.level[:, j, i] = np.maximum(model.level[:, j, i], req.min_level_by_target)


def actor_for(model, action):
    """A state able to take ``action`` in the baseline (its capabilities and commitments
    suffice), with a fitting target."""
    req = action.requires
    for i, aid in enumerate(model.actor_ids):
        agent = model.agents_by_index[i]
        spec = model.spec.actors[aid]
        if agent.kind != "state" or any(getattr(spec.capabilities, c) < need
                                        for c, need in req.capability.items()):
            continue
        for k in np.nonzero(agent.cand_action == CAT.index[action.id])[0]:
            target = model.actor_ids[agent.cand_target[k]]
            if req.commitment is None or spec.commitments.get(target, 0) >= req.commitment:
                return aid, target
    pytest.skip(f"no baseline actor can take {action.id}")


@pytest.mark.parametrize("action", STATE_ACTIONS, ids=lambda a: a.id)
def test_level_memory_and_index(baseline, action):
    """The act sets the declared level, leaves its Goldstein weight in memory, and adds
    its declared severity to the escalation index under every scheme."""
    for scheme in SCHEMES:
        model = fresh(baseline, scheme=scheme)
        actor, target = actor_for(model, action)
        i, j = model.actor_index[actor], model.actor_index[target]
        satisfy(model, action, i, j)
        before_level = model.level[:, i, j].copy()
        before_h = model.hostility[:, j, i].copy()
        before_c = model.cooperation[:, j, i].copy()
        before_index = model.index.copy()
        decay = model.spec.memory.decay
        play(model, actor, action.id, target)
        assert (model.agents_by_index[i].cand_action == CAT.index[action.id]).any()
        np.testing.assert_allclose(model.index, decay * before_index + action.score(scheme))
        expected_h = decay * before_h + max(0.0, -action.goldstein) / 10
        expected_c = decay * before_c + max(0.0, action.goldstein) / 10
        np.testing.assert_allclose(model.hostility[:, j, i], expected_h)
        np.testing.assert_allclose(model.cooperation[:, j, i], expected_c)
        if action.level > 0:
            assert (model.level[:, i, j] == np.maximum(before_level, action.level)).all()
        elif action.effects.lower_level == 0 and action.effects.ceasefire is None:
            assert (model.level[:, i, j] <= before_level).all()


def feasible_for(model, actor, action_id, target):
    agent = model.agents_by_index[model.actor_index[actor]]
    k = np.nonzero((agent.cand_action == CAT.index[action_id])
                   & (agent.cand_target == model.actor_index[target]))[0]
    assert k.size == 1
    return agent.feasible()[:, k[0]]


@pytest.mark.parametrize("action", [a for a in STATE_ACTIONS if a.requires.min_level],
                         ids=lambda a: a.id)
def test_min_level_precondition(baseline, action):
    """Available exactly when the pair has reached the declared level (either direction)."""
    model = fresh(baseline)
    actor, target = actor_for(model, action)
    i, j = model.actor_index[actor], model.actor_index[target]
    satisfy(model, action, i, j)
    need = action.requires.min_level
    model.level[:, i, j] = model.level[:, j, i] = need - 1
    assert not feasible_for(model, actor, action.id, target).any()
    model.level[:, j, i] = need
    assert feasible_for(model, actor, action.id, target).all()


def test_tankers_can_only_be_released_while_held(baseline):
    model = fresh(baseline)
    usa, ven = model.actor_index["USA"], model.actor_index["VEN"]
    model.assets[:, usa, ven] = [0, 2, 0, 1]
    assert feasible_for(model, "USA", "release_property", "VEN").tolist() == [
        False, True, False, True]
    play(model, "USA", "release_property", "VEN")
    assert (model.assets[:, usa, ven] == 0).all()


def test_seizure_adds_held_assets(baseline):
    model = fresh(baseline)
    usa, ven = model.actor_index["USA"], model.actor_index["VEN"]
    held = model.assets[:, usa, ven].copy()
    assert (held == 2).all()  # the two tankers of the article
    play(model, "USA", "seize_tanker", "VEN")
    assert (model.assets[:, usa, ven] == held + CAT["seize_tanker"].effects.seize_assets).all()


def test_capability_preconditions_limit_who_may_act(baseline):
    """Venezuela's small navy cannot blockade or seize; the US can, once the pair's
    level allows it."""
    model = fresh(baseline)
    usa, ven = model.actor_index["USA"], model.actor_index["VEN"]
    model.level[:, usa, ven] = model.level[:, ven, usa] = 5
    for action in ("impose_blockade", "seize_tanker", "deploy_naval_force"):
        assert not feasible_for(model, "VEN", action, "USA").any()
        assert feasible_for(model, "USA", action, "VEN").all()


def test_actor_kinds_and_target_kinds(baseline):
    model = fresh(baseline)
    for agent in model.agents_by_index.values():
        for a, t in zip(agent.cand_action, agent.cand_target, strict=True):
            if a == HOLD:
                continue
            action = CAT.actions[a]
            assert agent.kind in action.actors
            assert not action.requires.vote_only
            if action.target == "none":
                assert t < 0
            else:
                assert model.is_state[t] == (action.target == "state")


def test_threat_binds_for_the_declared_days(baseline):
    model = fresh(baseline)
    play(model, "VEN", "threaten", "USA")
    v, u = model.actor_index["VEN"], model.actor_index["USA"]
    assert (model.threat_until[:, v, u] == model.day + model.spec.memory.threat_days).all()


def test_casualties_follow_the_declared_mean(baseline):
    """Deaths per strike are whole-number exponential draws with the declared mean mu
    (docs/model.md): floor(X) with X ~ Exp(mean mu) is geometric with q = exp(-1/mu), so
    P(k) = (1 - q) q^k, mean q/(1 - q) = 1/(exp(1/mu) - 1) and sd sqrt(q)/(1 - q).

    The strike with mu = 4 is drawn in 40,000 runs: flooring takes 0.48 deaths off the mean,
    six times the tolerance (4 standard errors of the geometric, 0.08), so an unfloored draw
    (mean mu) or a rounded one (mean ~mu) fails, and so do non-integer draws."""
    runs, action = 40_000, "strike_suspected_traffickers"
    model = fresh(baseline, runs=runs)
    model.level[:, model.actor_index["USA"], model.actor_index["VEN"]] = 6
    before = model.casualties.copy()
    play(model, "USA", action, "VEN")
    mu = CAT[action].effects.casualties
    drawn = model.casualties - before
    assert (drawn >= 0).all() and (drawn == np.floor(drawn)).all()
    q = np.exp(-1 / mu)
    expected, sd = q / (1 - q), np.sqrt(q) / (1 - q)
    tolerance = 4 * sd / np.sqrt(runs)
    assert mu - expected > 4 * tolerance  # the check tells floored from unfloored draws
    assert abs(drawn.mean() - expected) < tolerance, (drawn.mean(), expected)
    zero = (drawn == 0).mean()
    assert abs(zero - (1 - q)) < 4 * np.sqrt(q * (1 - q) / runs), zero



def test_ceasefire_caps_both_directions(baseline):
    model = fresh(baseline)
    u, v = model.actor_index["USA"], model.actor_index["VEN"]
    model.level[:, u, v], model.level[:, v, u] = 6, 5
    play(model, "USA", "declare_ceasefire", "VEN")
    cap = CAT["declare_ceasefire"].effects.ceasefire
    assert (model.level[:, u, v] == cap).all() and (model.level[:, v, u] == cap).all()


def test_military_aid_transfers_capability_and_provokes_the_adversary(baseline):
    model = fresh(baseline)
    r, v, u = (model.actor_index[k] for k in ("RUS", "VEN", "USA"))
    satisfy(model, CAT["provide_military_aid"], r, v)
    before_cap = model.military[:, v].copy()
    before_h = model.hostility[:, u, r].copy()
    play(model, "RUS", "provide_military_aid", "VEN")
    fx = CAT["provide_military_aid"].effects
    np.testing.assert_allclose(model.military[:, v], before_cap + fx.capability_transfer)
    decay = model.spec.memory.decay
    # the US presses Venezuela (level >= 3), so Russia's aid counts on the US-Russia pair
    tone = CAT["provide_military_aid"].goldstein / 10
    np.testing.assert_allclose(model.hostility[:, u, r],
                               decay * before_h + fx.third_party_hostility * tone)


def test_request_leads_to_a_meeting_after_the_delay(baseline):
    model = fresh(baseline)
    council = baseline.spec.actors["UNSC"].council
    model.meeting_day[:] = NEVER
    model.level[:, model.actor_index["USA"], model.actor_index["VEN"]] = 5
    play(model, "VEN", "request_council_meeting", "UNSC")
    delay = council.meeting_delay_days
    requested = model.day
    assert (model.meeting_day == requested + delay).all()
    while model.day < requested + delay - 1:
        model.step()
        assert (model.session_until < model.day).all(), "met before the delay"
    model.step()  # the meeting day: the Council convenes in every run
    assert (model.session_until == model.day + council.session_days).all()
    assert (model.meeting_day == NEVER).all()


@pytest.mark.parametrize("old, new, words", [
    ("effects: {seize_assets: 1}", "effects: {seize_assets: 6}", "must be <= 5"),
    ("effects: {casualties: 150}", "effects: {casualties: 1.0e+6}", "must be <= 1000"),
])
def test_effects_that_are_summed_are_bounded(tmp_path, old, new, words):
    """Held assets are int16 and casualty sums int64: the catalogue bounds what feeds them."""
    from sim.errors import InputError
    text = catalogue.default_path().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "actions.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        catalogue.load(path)
    assert [p.line for p in caught.value.problems] == [text[:text.index(old)].count("\n") + 1]
    assert words in str(caught.value)


# The moves real crises use (issue 10), with the codes the CAMEO 1.1b3 codebook and the PLOVER
# codebook's CAMEO2PLOVER-2021 table give them, typed here from those sources.
CRISIS_MOVES = {
    "raid_capture_leader": ("181", "ASSAULT", 6),  # abduct, hijack, or take hostage
    "short_invasion": ("190", "ASSAULT", 7),  # use conventional military force
    "covert_strike": ("195", "ASSAULT", 6),  # employ aerial weapons
    "seize_third_flag_ship": ("1711", "COERCE", 5),  # confiscate property
    "shoot_down_drone": ("190", "ASSAULT", 6),
    "issue_ultimatum": ("139", "THREATEN", 3),  # give ultimatum
    "recognise_rival_government": ("161", "SANCTION", 2),  # reduce or break relations
    "offer_deal": ("037", "AGREE", 0),  # express intent to settle dispute
    "comply_with_demands": ("080", "CONCEDE", 0),  # yield
}


@pytest.mark.parametrize("action_id", CRISIS_MOVES)
def test_crisis_moves_have_their_codes(action_id):
    """Each move real crises use is in the catalogue with its CAMEO code, PLOVER type and
    ladder level (its Goldstein weight is checked against the table above)."""
    action = CAT[action_id]
    assert (action.cameo, action.plover, action.level) == CRISIS_MOVES[action_id]
    assert action.actors == ("state",) and action.target == "state"


def test_crisis_moves_declare_their_effects():
    """A raid or a short invasion may topple the target's government (the invasion more
    likely, and deadlier: Grenada 1983 and Panama 1989 cost hundreds of lives); a drone
    shootdown kills no one; an ultimatum is a threat with a deadline of days; an offer and a
    compliance are marked for the model."""
    raid, invasion = CAT["raid_capture_leader"].effects, CAT["short_invasion"].effects
    assert 0 < raid.topple < invasion.topple <= 1
    assert 0 < raid.casualties < invasion.casualties
    assert CAT["shoot_down_drone"].effects.casualties == 0
    assert CAT["covert_strike"].effects.casualties < raid.casualties
    ultimatum = CAT["issue_ultimatum"].effects
    assert ultimatum.threat and 1 <= ultimatum.deadline_days <= 7  # days, not a month
    assert CAT["offer_deal"].effects.offer and CAT["comply_with_demands"].effects.comply
    assert CAT["comply_with_demands"].requires.demanded
    assert CAT["seize_third_flag_ship"].effects.seize_assets == 1
    assert "naval" in CAT["seize_third_flag_ship"].requires.capability
    # the model reads effects as columns; actions that do not declare one get 0
    for name in ("topple", "deadline_days", "offer", "comply"):
        column = CAT.effects[name]
        declared = {a.id for a in CAT.actions if getattr(a.effects, name)}
        assert {a.id for a, v in zip(CAT.actions, column, strict=True) if v} == declared


def test_hostile_acts_are_not_gated_by_the_ladder():
    """Ladder discipline is a cost in the decision model, not a gate: no act of level 2 or
    more needs the pair to have reached a level first, so a fait accompli is possible."""
    hostile = [a for a in CAT.actions if a.level >= 2]
    assert len(hostile) >= 15
    assert all(a.requires.min_level is None for a in hostile), [
        a.id for a in hostile if a.requires.min_level is not None]
    # gates of meaning stay: a ceasefire needs a fight, a negotiation a dispute
    assert CAT["declare_ceasefire"].requires.min_level == 5
    assert CAT["release_property"].requires.holds_assets


def test_a_deadline_needs_a_threat(tmp_path):
    """An ultimatum's deadline only means something for a threat: the catalogue refuses a
    deadline on any other act, at its line."""
    from sim.errors import InputError
    text = catalogue.default_path().read_text(encoding="utf-8")
    old, new = "effects: {threat: true, deadline_days: 3}", "effects: {deadline_days: 3}"
    assert text.count(old) == 1
    path = tmp_path / "actions.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        catalogue.load(path)
    [problem] = caught.value.problems
    assert problem.line == text[:text.index(old)].count("\n") + 1
    assert "deadline needs threat: true" in str(caught.value)
