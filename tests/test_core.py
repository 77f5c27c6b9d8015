"""The model core: file order does not matter, same-day moves resolve by one rule, parameter
sets equal separate runs, a saved day continues bit for bit, decision rules plug in."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml

from sim.ensemble.engine import csv_header
from sim.ensemble.montecarlo import branch, run_ensemble, simulate
from sim.errors import InputError
from sim.inputs.scenario import load_scenario
from sim.model import state as st
from sim.model.model import EscalationModel
from sim.model.outcomes import paths, state_pairs
from sim.model.params import ParameterSets, parameter_paths
from sim.model.rules import ExternalRule
from tests.conftest import BASELINE


def rows_of(scenario, **kwargs) -> str:
    """runs.csv of an ensemble (header and rows), as `escsim run` writes it."""
    rows = []
    run_ensemble(scenario, on_rows=rows.append, **kwargs)
    sets = kwargs.get("parameters") is not None and kwargs["parameters"].n_sets > 1
    return csv_header(scenario.actor_ids, state_pairs(scenario), sets) + "".join(rows)


def permuted(tmp_path, path=BASELINE):
    """A copy of the scenario with its actors, and the Council's members, in reverse order."""
    data = yaml.safe_load(path.read_text())
    data["seed_events"] = str((path.parent / data["seed_events"]).resolve())
    data["actors"] = dict(reversed(data["actors"].items()))
    for actor in data["actors"].values():
        if "council" in actor:
            actor["council"]["members"] = dict(reversed(actor["council"]["members"].items()))
    out = tmp_path / "permuted.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def test_a_permuted_scenario_gives_the_same_runs(tmp_path, baseline):
    """Reversing the order of the actors and of the Council's seats in the file changes
    no byte of runs.csv (1,000 runs, 60 days): the model keeps actors in the order of
    their ids, and every actor and seat draws from a stream keyed by its id."""
    other = load_scenario(permuted(tmp_path))
    assert list(other.spec.actors) == list(reversed(baseline.spec.actors))
    assert rows_of(other, runs=1000, seed=11) == rows_of(baseline, runs=1000, seed=11)


def test_force_the_same_day_as_a_ceasefire_prevails_in_either_order(baseline):
    """The US strikes Venezuela on the day Venezuela declares a ceasefire with it: the
    ceasefire caps the levels the day started with (both directions), then the strike
    raises its own direction to its rung. Who comes first in the file plays no part."""
    model = EscalationModel(dataclasses.replace(baseline, spec=baseline.spec.model_copy(
        update={"schedule": ()})), runs=3, seed=1)
    u, v = model.actor_index["USA"], model.actor_index["VEN"]
    model.level[:, u, v], model.level[:, v, u] = 5, 6
    for aid in model.actor_ids:
        model.force(aid, None)
    model.force("USA", "strike_military_targets", "VEN")
    model.force("VEN", "declare_ceasefire", "USA")
    model.step()
    cap = model.catalogue["declare_ceasefire"].effects.ceasefire
    rung = model.catalogue["strike_military_targets"].level
    assert (model.level[:, u, v] == rung).all()
    assert (model.level[:, v, u] == cap).all()


def test_parameter_sets_equal_separate_runs(baseline):
    """Three sets of 60 runs in one ensemble: each set's rows are, byte for byte, a
    separate run with that set's values, and run r of every set draws run r's numbers
    (the sets differ only where their parameters make them)."""
    table = {"actors.USA.resolve": [0.2, 0.5, 0.9], "memory.decay": [0.8, 0.85, 0.9],
             "actors.RUS.commitments.VEN": [0.0, 0.5, 1.0]}
    sets = ParameterSets(baseline, table)
    together = rows_of(baseline, runs=60, seed=5, days=40, parameters=sets,
                       chunk_size=47).splitlines()
    assert together[0].startswith("set,run,")
    for k in range(3):
        alone = rows_of(baseline, runs=60, seed=5, days=40, parameters=ParameterSets(
            baseline, {p: [v[k]] for p, v in table.items()})).splitlines()
        mine = [line.split(",", 1)[1] for line in together[1:] if line.startswith(f"{k},")]
        assert mine == alone[1:]


def test_a_parameter_set_equals_an_edited_scenario_file(variant, baseline):
    """--set PATH=VALUE means what editing the file means: the same runs."""
    edited = load_scenario(variant("actors:\n  USA:\n    resolve: 0.9\n"
                                   "memory:\n  relax_days: 5\n"))
    sets = ParameterSets.single(baseline, ["actors.USA.resolve=0.9", "memory.relax_days=5"])
    assert rows_of(baseline, runs=200, seed=2, parameters=sets) == rows_of(edited, runs=200,
                                                                           seed=2)


def test_every_numeric_field_has_a_parameter_path(baseline):
    """Actors' decision parameters, capabilities, aims and commitments, the Council and its
    seats, memory and outcome thresholds all vary by path; a near miss gets a hint."""
    paths = parameter_paths(baseline)
    for expected in ("actors.USA.rationality", "actors.VEN.capabilities.naval",
                     "actors.USA.pressure.VEN", "actors.RUS.commitments.VEN",
                     "actors.UNSC.council.activism", "actors.UNSC.council.votes_to_pass",
                     "actors.UNSC.council.members.CHN.veto_probability",
                     "actors.UNSC.council.members.FRA.yes_probability_by_target.USA",
                     "memory.threat_days", "outcomes.war.casualties",
                     "outcomes.great_power_confrontation.min_level"):
        assert expected in paths
    with pytest.raises(InputError) as err:
        ParameterSets(baseline, {"actors.USA.resolv": [0.5], "memory.decay": [1.0],
                                 "memory.relax_days": [2.5]})
    text = str(err.value)
    assert "did you mean 'actors.USA.resolve'" in text
    assert "memory.decay: must be below 1" in text
    assert "memory.relax_days: must be a whole number" in text


def test_a_run_saved_on_day_10_continues_bit_for_bit(tmp_path, baseline):
    """Save 50 runs at the end of day 10 to a file, restore, continue to day 60: every
    per-run result equals the uninterrupted runs', and so does the in-memory branch's
    continuation 0 of run 7 (apart from its run number)."""
    whole = simulate(baseline, runs=50, seed=9)
    model = EscalationModel(baseline, runs=50, seed=9)
    for _ in range(10):
        model.step()
    path = st.save(tmp_path / "day10.npz", st.SavedState.of(model), baseline)
    restored = EscalationModel(baseline, runs=50, seed=9, state=st.load(path, baseline))
    assert restored.day == 10
    after = restored.run()
    for name in ("outcome", "first", "peak", "casualties", "final_index", "peak_by_scheme"):
        assert np.array_equal(after[name], getattr(whole, name)), name
    assert after["path"] == whole.path
    again = branch(baseline, st.load(path, baseline, runs=[7]), run=7, runs=4)
    assert again.run.tolist() == [0, 1, 2, 3]
    assert again.path[0] == whole.path[7] and again.first[0].tolist() == whole.first[7].tolist()
    assert not all(p == whole.path[7] for p in again.path[1:]), "continuations are new runs"


def test_engine_saves_every_run_and_continues_them(tmp_path, baseline):
    """run_ensemble's day-10 state of 300 runs (chunks of 70) restores each run K so that
    its continuation 0 is its row of runs.csv."""
    path = tmp_path / "state.npz"
    writer = st.StateWriter(path, baseline, seed=4, day=10)
    rows = []
    run_ensemble(baseline, runs=300, seed=4, chunk_size=70, save_day=10, on_state=writer.add,
                 on_rows=rows.append)
    writer.close()
    lines = "".join(rows).splitlines()
    for k in (0, 69, 70, 299):
        state = st.load(path, baseline, runs=[k])
        cont = rows_of(baseline, runs=2, seed=4, origin=state.select([state.position(k)]))
        first = cont.splitlines()[1]
        assert first.split(",", 1)[1] == lines[k].split(",", 1)[1]


def test_a_what_if_from_a_saved_day_keeps_the_past(tmp_path, variant, baseline):
    """Continuing with a scenario whose US is more resolute changes the future, not the
    first ten days of the path."""
    model = EscalationModel(baseline, runs=200, seed=3)
    for _ in range(10):
        model.step()
    state = st.SavedState.of(model)
    hawk = load_scenario(variant("actors:\n  USA:\n    resolve: 1.0\n    inertia: 0.2\n"))
    past = paths(model.tops())
    calm = EscalationModel(baseline, runs=200, seed=3, state=state).run()
    bold = EscalationModel(hawk, runs=200, seed=3, state=state).run()
    assert calm["path"] != bold["path"]
    assert all(a.startswith(b) for a, b in zip(bold["path"], past, strict=True))


def test_state_files_say_what_is_wrong(tmp_path, baseline, variant):
    """A file that is not a state, a newer format and other actors each get one clear
    message."""
    model = EscalationModel(baseline, runs=3, seed=1)
    good = st.save(tmp_path / "s.npz", st.SavedState.of(model), baseline)
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(InputError, match="not a state file"):
        st.load(junk)
    import json
    import zipfile
    newer = tmp_path / "newer.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(newer, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "meta.json":
                meta = json.loads(data)
                meta["version"] = 99
                data = json.dumps(meta).encode()
            dst.writestr(item, data)
    with pytest.raises(InputError, match="version 99"):
        st.load(newer)
    other = load_scenario(BASELINE.parent / "caribbean-2025-china.yaml")
    assert other.actor_ids != baseline.actor_ids
    with pytest.raises(InputError, match="the saved state has actors"):
        st.load(good, other)


def test_an_external_rule_plays_one_actor_and_the_rest_follow_their_rules(baseline):
    """A player's moves, run by run, go through the compiled day: the model plays them;
    runs without a submitted move fall back to the logit rule."""
    player = ExternalRule()
    model = EscalationModel(baseline, runs=4, seed=2, rules={"VEN": player})
    v, u = model.actor_index["VEN"], model.actor_index["USA"]
    model.step()
    player.submit(model, "criticize_or_denounce", "USA", runs=[0, 1])
    player.submit(model, None, runs=[2])
    model.step()
    action, target = model.agents_by_index[v].choice
    denounce = model.catalogue.index["criticize_or_denounce"]
    assert action[:2].tolist() == [denounce, denounce] and target[:2].tolist() == [u, u]
    assert action[2] == -1
    strict = ExternalRule(fallback=None)
    model = EscalationModel(baseline, runs=2, seed=2, rules={"VEN": strict})
    with pytest.raises(ValueError, match="no move submitted for VEN"):
        model.step()


def test_agents_expose_parameters_view_and_options(baseline):
    """Each Mesa agent shows its parameters, its view of the state and its options; the
    options' probabilities are the nested logit's, over feasible moves only: at rationality
    0 every nest (hold, a rung, a kind) is equally likely, and so is every move within one."""
    sets = ParameterSets(baseline, {"actors.USA.rationality": [0.0, 3.0]})
    model = EscalationModel(baseline, runs=2, seed=1, parameters=sets, sets=[0, 1])
    usa = model.agents_by_index[model.actor_index["USA"]]
    assert usa.parameters(0)["rationality"] == 0.0 and usa.parameters(1)["rationality"] == 3.0
    assert usa.view(0)["assets_held"] == {"VEN": 2}
    uniform = usa.options(0)
    open_moves = [o for o in uniform if o["feasible"]]
    assert all(o["probability"] == 0 for o in uniform if not o["feasible"])
    first = model.tables.cand_start[usa.index]
    nests = model.tables.cand_nest[first:first + len(uniform)]
    nest_of = [n for n, o in zip(nests, uniform, strict=True) if o["feasible"]]
    sizes = {n: nest_of.count(n) for n in nest_of}
    np.testing.assert_allclose([o["probability"] for o in open_moves],
                               [1 / len(sizes) / sizes[n] for n in nest_of])
    sharp = usa.options(1)
    assert max(o["probability"] for o in sharp) > 1 / len(open_moves)
    assert abs(sum(o["probability"] for o in sharp) - 1) < 1e-12
