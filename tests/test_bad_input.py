"""Bad input gets a clear error and loses nothing.

Every malformed file below must produce: exit status 2, one message per
problem naming the file, the line and the field path, a hint for near misses,
no traceback, and no results folder.
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests.conftest import BASELINE, ROOT, line_of, run_cli


def assert_rejected(path, out, expect_line=None, field=None, words=(), cmd="run"):
    """Run ``escsim <cmd>`` on ``path`` and check the error contract."""
    args = ["run", path, "--runs", "3", "--out", out] if cmd == "run" else [cmd, path]
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr
    assert "Traceback" not in err
    assert not out.exists() or not any(out.rglob("*")), "a results folder was created"
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines, "no message"
    if expect_line is not None:
        assert any(re.search(rf"{re.escape(path.name)}:{expect_line}\b", ln) for ln in lines), err
    if field is not None:
        assert any(f": {field}:" in ln for ln in lines), err
    for word in words:
        assert word in err, err
    return lines


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("title: x\nactors:\n  USA: {name: [unclosed\nhorizon_days: 3\n")
    assert_rejected(path, tmp_path / "out", words=("YAML syntax error",))


def test_duplicate_key(variant, tmp_path):
    path = variant("horizon_days: 30\nhorizon_days: 40\n")
    text = path.read_text()
    lines = assert_rejected(path, tmp_path / "out", expect_line=line_of(text, "horizon_days: 40"),
                            field="horizon_days", words=("duplicate key",))
    assert "first given on line 2" in lines[0]


def test_unknown_field_with_hint(variant, tmp_path):
    path = variant("actors:\n  USA:\n    resolv: 0.9\n")
    assert_rejected(path, tmp_path / "out", expect_line=4, field="actors.USA.resolv",
                    words=("unknown field", "did you mean 'resolve'?"))


def test_unknown_top_level_field_with_hint(variant, tmp_path):
    path = variant("horizon_dayz: 30\n")
    assert_rejected(path, tmp_path / "out", expect_line=2, field="horizon_dayz",
                    words=("did you mean 'horizon_days'?",))


def test_wrong_type(variant, tmp_path):
    path = variant("actors:\n  RUS:\n    rationality: high\n")
    assert_rejected(path, tmp_path / "out", expect_line=4, field="actors.RUS.rationality",
                    words=("must be a valid number",))


def test_out_of_range(variant, tmp_path):
    path = variant("actors:\n  VEN:\n    resolve: 1.5\n")
    assert_rejected(path, tmp_path / "out", expect_line=4, field="actors.VEN.resolve",
                    words=("must be <= 1",))


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_non_finite_number(variant, tmp_path, value):
    path = variant(f"memory:\n  decay: {value}\n")
    assert_rejected(path, tmp_path / "out", expect_line=3, field="memory.decay",
                    words=("finite",))


def test_several_problems_reported_together(variant, tmp_path):
    path = variant("horizon_days: -3\nactors:\n  USA:\n    resolve: 2\n    rationalty: 1\n")
    lines = assert_rejected(path, tmp_path / "out")
    assert len(lines) == 3, lines
    assert [int(re.search(r":(\d+):", ln).group(1)) for ln in lines] == [2, 5, 6]


def test_schedule_with_unknown_actor_and_action(variant, tmp_path):
    path = variant("schedule:\n  - day: 3\n    actor: UNSCC\n    action: convene_meting\n")
    lines = assert_rejected(path, tmp_path / "out")
    text = "\n".join(lines)
    assert "variant.yaml:4: schedule[0].actor: unknown actor 'UNSCC'" in text
    assert "did you mean 'UNSC'?" in text
    assert "variant.yaml:5: schedule[0].action: unknown action 'convene_meting'" in text
    assert "did you mean 'convene_meeting'?" in text


def test_seed_event_with_unknown_actor(tmp_path):
    seeds = tmp_path / "events.yaml"
    original = (ROOT / "seeds" / "caribbean-2025.events.yaml").read_text(encoding="utf-8")
    broken = original.replace("actor: RUS\n    target: USA", "actor: RUSS\n    target: USA")
    seeds.write_text(broken, encoding="utf-8")
    shutil.copy(ROOT / "seeds" / "article.txt", tmp_path / "article.txt")
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {BASELINE}\nseed_events: events.yaml\n")
    lines = assert_rejected(path, tmp_path / "out", words=("unknown actor 'RUSS'",
                                                           "did you mean 'RUS'?"))
    expected = line_of(seeds.read_text(encoding="utf-8"), "actor: RUSS")
    assert any(f"events.yaml:{expected}: events[8].actor" in ln for ln in lines), lines


def test_missing_extends(tmp_path):
    path = tmp_path / "child.yaml"
    (tmp_path / "parent.yaml").write_text("title: p\n")
    path.write_text("title: x\nextends: parnet.yaml\n")
    assert_rejected(path, tmp_path / "out", expect_line=2, field="extends",
                    words=("not found", "did you mean 'parent.yaml'?"))


def test_cyclic_extends(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\ntitle: a\n")
    (tmp_path / "b.yaml").write_text("title: b\nextends: a.yaml\n")
    lines = assert_rejected(tmp_path / "a.yaml", tmp_path / "out", field="extends",
                            words=("cyclic extends: a.yaml -> b.yaml -> a.yaml",))
    assert "b.yaml:2" in lines[0]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    assert_rejected(path, tmp_path / "out", expect_line=1, words=("file is empty",))


def test_non_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: ok\ndescription: Caf\xe9\n".encode("latin-1"))
    assert_rejected(path, tmp_path / "out", expect_line=2, words=("not valid UTF-8",))


def test_oversized_file(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("title: x\n" + "# padding\n" * 120_000)
    assert_rejected(path, tmp_path / "out", words=("larger than the 1,000,000-byte limit",))


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['echo pwned']",
                                 "!!python/name:os.system",
                                 "!!python/object:collections.OrderedDict {}"])
def test_python_tags_refused(variant, tmp_path, tag):
    path = variant(f"description: {tag}\n")
    assert_rejected(path, tmp_path / "out", expect_line=2, field="description",
                    words=("is not allowed",))
    assert not (tmp_path / "pwned").exists()


def test_alias_bomb_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for k in range(1, 8):
        refs = ", ".join([f"*a{k-1}"] * 10)
        lines.append(f"a{k}: &a{k} [{refs}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert_rejected(path, tmp_path / "out", words=("alias expansion",))


def test_missing_file(tmp_path):
    assert_rejected(tmp_path / "nope.yaml", tmp_path / "out", words=("file not found",))


def test_validate_reports_every_file(variant, tmp_path):
    bad = variant("horizon_days: 0\n")
    proc = run_cli("validate", BASELINE, bad)
    assert proc.returncode == 2
    assert "caribbean-2025.yaml: ok" in proc.stdout
    assert "variant.yaml:2: horizon_days: must be >= 1, got 0" in proc.stderr


def test_debug_shows_traceback(variant, tmp_path):
    bad = variant("horizon_days: 0\n")
    proc = run_cli("--debug", "validate", bad)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr


def test_bad_command_line_values_exit_2(tmp_path):
    for args in (["--runs", "0"], ["--runs", "ten"], ["--seed", "-1"]):
        proc = run_cli("run", BASELINE, *args, "--out", tmp_path / "out")
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_replaced_list_points_at_the_variant(variant, tmp_path):
    """A list a variant replaces is reported at the variant's line, not the parent's."""
    path = variant("outcomes:\n  great_power_confrontation:\n    actors: [USA]\n")
    assert_rejected(path, tmp_path / "out", expect_line=4,
                    field="outcomes.great_power_confrontation.actors[1]")


def test_problems_come_sorted_by_line(variant, tmp_path):
    path = variant("actors:\n  USA:\n    resolve: 3\n    kind: stat\nhorizon_days: 1.5\n")
    lines = assert_rejected(path, tmp_path / "out")
    numbers = [int(re.search(r":(\d+):", ln).group(1)) for ln in lines]
    assert numbers == sorted(numbers) == [4, 5, 6]
    assert "did you mean 'state'?" in lines[1]


@pytest.mark.parametrize("args, words", [
    (["--runs", 10**13], "MiB free"),  # runs.csv would not fit on disk
    (["--runs", 10**9, "--keep-trajectories", 10**9], "GiB of memory"),
    (["--until-ci", "0.001", "--max-runs", 10**13], "MiB free"),
])
def test_request_too_big_is_refused_up_front(tmp_path, args, words):
    proc = run_cli("run", BASELINE, *args, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}")])
def test_deep_nesting_refused(tmp_path, opening, closing):
    path = tmp_path / "deep.yaml"
    path.write_text(f"title: x\ndescription: {opening * 5000}1{closing * 5000}\n")
    assert_rejected(path, tmp_path / "out", expect_line=2, words=("levels deep",))
