"""Bad input gets a clear error and loses nothing.

Every malformed file below must produce: exit status 2, one message per
problem naming the file, the line and the field path, a hint for near misses,
no traceback, and no results folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

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


def seed_variant(tmp_path, old: str, new: str) -> tuple[Path, Path, int]:
    """A scenario extending the baseline with a copy of its seeds where ``old`` became ``new``.

    Returns the scenario, the seed file and the line of the last line of ``new``.
    """
    seeds = tmp_path / "events.yaml"
    original = (ROOT / "seeds" / "caribbean-2025.events.yaml").read_text(encoding="utf-8")
    assert old in original
    seeds.write_text(original.replace(old, new, 1), encoding="utf-8")
    shutil.copy(ROOT / "seeds" / "article.txt", tmp_path / "article.txt")
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {BASELINE}\nseed_events: events.yaml\n")
    return path, seeds, original[:original.index(old)].count("\n") + new.count("\n") + 1


def test_seed_event_with_unknown_actor(tmp_path):
    path, _, line = seed_variant(tmp_path, "actor: RUS\n    target: USA",
                                 "actor: RUSS\n    target: USA")
    lines = assert_rejected(path, tmp_path / "out", words=("unknown actor 'RUSS'",
                                                           "did you mean 'RUS'?"))
    assert any(f"events.yaml:{line - 1}: events[8].actor" in ln for ln in lines), lines


@pytest.mark.parametrize("old, new, field, words", [
    ("actor: RUS\n    target: USA", "actor: RUS\n    target: RUS", "events[8].target",
     "an actor cannot target itself"),
    ("actor: RUS\n    target: USA", "actor: RUS\n    target: null", "events[8]",
     "'criticize_or_denounce' needs a target"),
    ("target: null     # addressed to the public", "target: VEN", "events[4].target",
     "'make_statement' takes no target"),
    ("actor: VEN\n    target: UNSC", "actor: VEN\n    target: RUS", "events[7].target",
     "'RUS' is a state, expected an institution"),
    ("actor: RUS\n    target: USA", "actor: RUS\n    target: usa", "events[8].target",
     "unknown actor 'usa' (did you mean 'USA'?)"),
])
def test_seed_event_moves_are_checked_like_the_schedule(tmp_path, old, new, field, words):
    """Seed events get the schedule's checks: own actor as target, a missing or
    superfluous target, the target's kind, and a hint for a case-only difference."""
    path, seeds, line = seed_variant(tmp_path, old, new)
    messages = refusal(path)
    assert len(messages) == 1, messages
    if field.endswith(".target"):
        assert messages[0] == f"{seeds}:{line}: {field}: {words}", messages
    else:  # a missing target is reported at the event
        assert messages[0].startswith(f"{seeds}:") and f": {field}: {words}" in messages[0]


def test_schedule_event_cannot_target_its_own_actor(variant):
    path = variant("schedule:\n  - {day: 1, actor: USA, action: accuse, target: USA}\n")
    assert refusal(path) == [f"{path}:3: schedule[0].target: an actor cannot target itself"]


def test_seed_casualties_are_bounded(tmp_path):
    """Seed casualties of 1e20 once overflowed the int64 sum: runs.csv said 1e20 and
    summary.json 0.0. They are refused at their line, with the bound."""
    path, seeds, line = seed_variant(tmp_path, "casualties: 100 ", "casualties: 1.0e+20 ")
    assert refusal(path) == [f"{seeds}:{line}: events[0].casualties: must be <= 10000000, "
                             "got 1e+20"]


def test_seed_acts_are_bounded(tmp_path):
    """Every run replays every seed act before day 0, so their total is bounded."""
    original = (ROOT / "seeds" / "caribbean-2025.events.yaml").read_text(encoding="utf-8")
    path, seeds, _ = seed_variant(tmp_path, original,
                                  original.replace("  - id: ", "  - count: 100\n    id: "))
    assert refusal(path) == [f"{seeds}:{line_of(original, 'events:')}: events: the events' "
                             "counts add up to 1,400, more than the 1,000 acts a history may hold"]


def test_misspelt_seed_events_path_gets_a_hint(variant):
    path = variant(f"seed_events: {ROOT / 'seeds' / 'caribbean-2025.event.yaml'}\n")
    messages = refusal(path)
    assert len(messages) == 1 and messages[0].startswith(f"{path}:2: seed_events: "), messages
    assert "file not found (did you mean" in messages[0]
    assert "caribbean-2025.events.yaml'?)" in messages[0]


def test_great_powers_must_differ(variant):
    """A pair of an actor with itself never leaves level 0: the outcome could never occur."""
    path = variant("outcomes:\n  great_power_confrontation:\n    actors: [USA, USA]\n")
    assert refusal(path) == [f"{path}:4: outcomes.great_power_confrontation.actors[1]: "
                             "the two great powers must be different actors"]


def test_case_only_difference_gets_a_hint(variant, tmp_path):
    from sim.errors import did_you_mean
    assert did_you_mean("usa", ["USA", "VEN"]) == "did you mean 'USA'?"
    path = variant("schedule:\n  - {day: 1, actor: unsc, action: convene_meeting}\n")
    assert refusal(path) == [f"{path}:3: schedule[0].actor: unknown actor 'unsc' "
                             "(did you mean 'UNSC'?)"]


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
    (["--runs", 10**8, "--days", 3650], "MiB free"),  # runs.csv would take about 95 GiB
    (["--runs", 10**8, "--keep-trajectories", 10**8], "GiB of memory"),
    (["--days", 3650, "--until-ci", "0.0001", "--max-runs", 10**8], "MiB free"),
])
def test_request_too_big_is_refused_up_front(tmp_path, monkeypatch, capsys, args, words):
    """Requests within the flags' limits that still cannot fit are refused before any work.
    The disk reports 50 GiB free, whatever this machine's disk really has."""
    import sim.ensemble.montecarlo
    from sim.cli import main
    real = shutil.disk_usage
    monkeypatch.setattr(sim.ensemble.montecarlo.shutil, "disk_usage",
                        lambda path: real(path)._replace(free=50 * 2**30))
    status = main(["run", str(BASELINE), *map(str, args), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}")])
def test_deep_nesting_refused(tmp_path, opening, closing):
    path = tmp_path / "deep.yaml"
    path.write_text(f"title: x\ndescription: {opening * 5000}1{closing * 5000}\n")
    assert_rejected(path, tmp_path / "out", expect_line=2, words=("levels deep",))


# ------------------------------------------------- paths that input files name ---

SEEDS = ROOT / "seeds" / "caribbean-2025.events.yaml"
PATH_FIELDS = ("extends", "seed_events", "source")


def naming_file(tmp_path, field: str, target: str) -> tuple[Path, Path, int]:
    """A scenario whose ``field`` names ``target`` (a YAML scalar, quoted if need be).

    Returns the scenario to load, the file that names ``target`` and the line naming it.
    """
    scenario = tmp_path / f"{field}.yaml"
    if field == "extends":
        scenario.write_text(f"title: x\nextends: {target}\n", encoding="utf-8")
        return scenario, scenario, 2
    if field == "seed_events":
        scenario.write_text(f"extends: {BASELINE}\nseed_events: {target}\n", encoding="utf-8")
        return scenario, scenario, 2
    events = tmp_path / "events.yaml"
    text = SEEDS.read_text(encoding="utf-8")
    events.write_text(re.sub(r"^source: .*$", lambda _: f"source: {target}", text, count=1,
                             flags=re.M), encoding="utf-8")
    scenario.write_text(f"extends: {BASELINE}\nseed_events: {events}\n", encoding="utf-8")
    return scenario, events, line_of(text, "source:")


def refusal(scenario) -> list[str]:
    """The messages of the InputError that loading ``scenario`` raises."""
    from sim.errors import InputError
    from sim.inputs.scenario import load_scenario
    with pytest.raises(InputError) as caught:
        load_scenario(scenario)
    return [str(p) for p in caught.value.problems]


def _loop(tmp_path):
    (tmp_path / "loop-a.yaml").symlink_to(tmp_path / "loop-b.yaml")
    (tmp_path / "loop-b.yaml").symlink_to(tmp_path / "loop-a.yaml")
    return str(tmp_path / "loop-a.yaml")


def _socket(tmp_path):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s.sock"))
    return str(tmp_path / "s.sock")


def _big(tmp_path):
    (tmp_path / "big.yaml").write_text("title: x\n" + "# padding\n" * 100_000)
    return str(tmp_path / "big.yaml")


SAFE_SPECIALS = {  # name -> (make the target, words the message must hold)
    "folder": (lambda tmp: str(tmp), "is a folder"),
    "symlink loop": (_loop, "symlink loop"),
    "socket": (_socket, "is a socket"),
    "name too long": (lambda tmp: "x" * 5000 + ".yaml", "file name too long"),
    "NUL byte": (lambda tmp: '"a\\0b.yaml"', "NUL byte"),
    "/proc/self/mem": (lambda tmp: "/proc/self/mem", "cannot read file"),
    "oversized": (_big, "larger than the 1,000,000-byte limit"),
}


@pytest.mark.parametrize("kind", SAFE_SPECIALS)
@pytest.mark.parametrize("field", PATH_FIELDS)
def test_unreadable_named_file_is_reported_where_it_is_named(tmp_path, field, kind):
    """A folder, symlink loop, socket, over-long or NUL-holding name, /proc/self/mem or
    oversized file in a path field is one clear problem at the line that names it."""
    make, words = SAFE_SPECIALS[kind]
    if kind == "socket" and not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets here")
    if kind == "/proc/self/mem" and not Path("/proc/self/mem").exists():
        pytest.skip("no /proc here")
    scenario, namer, line = naming_file(tmp_path, field, make(tmp_path))
    messages = refusal(scenario)
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{namer}:{line}: {field}: "), messages
    assert words in messages[0], messages
    assert "\n" not in messages[0] and "\0" not in messages[0]


@contextlib.contextmanager
def as_ordinary_user(tmp_path):
    """Read files as an ordinary user: root may read anything, so as root the effective
    user and group become ``nobody`` meanwhile (``tmp_path`` is made traversable)."""
    if os.geteuid() != 0:
        yield
        return
    for folder in (tmp_path, *tmp_path.parents):
        mode = folder.stat().st_mode
        if mode & 0o005 != 0o005:  # pytest's own folders are private to root
            folder.chmod(mode | 0o005)
    os.setegid(65534)  # the group too: root's group may hold rights the user has not
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_unreadable_permissions_are_reported_where_named(tmp_path_factory):
    """A file the user may not read is refused at the naming line, not with a traceback."""
    tmp_path = tmp_path_factory.mktemp("modes")
    locked = tmp_path / "locked.yaml"
    locked.write_text("title: x\n")
    locked.chmod(0)
    scenario, namer, line = naming_file(tmp_path, "extends", str(locked))
    scenario.chmod(0o644)
    refusal(tmp_path / "missing.yaml")  # imports done now: nobody cannot read /root's Python
    with as_ordinary_user(tmp_path):
        messages = refusal(scenario)
    assert messages == [f"{namer}:{line}: extends: '{locked}': permission denied"]


def _limited():
    """Cap the child's memory, so that a regression reading /dev/zero fails fast."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(),
                    reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize("field", PATH_FIELDS)
def test_devices_fifos_and_stdin_neither_hang_nor_eat_memory(tmp_path, field):
    """/dev/zero behind a symlink, /dev/urandom, a FIFO without a writer and /dev/stdin
    (a pipe nobody closes) are refused at once, each at the line that names it."""
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo.yaml")
    cases = {"zero": str(tmp_path / "zero.yaml"), "urandom": "/dev/urandom",
             "fifo": str(tmp_path / "fifo.yaml"), "stdin": "/dev/stdin"}
    files = []
    for name, target in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        files.append(naming_file(folder, field, target))
    proc = subprocess.Popen([sys.executable, "-m", "sim", "validate", *(f for f, _, _ in files)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_limited)
    try:
        _, err = proc.communicate(timeout=120)  # stdin stays open until the child is done
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("escsim validate hung on a special file") from None
    assert proc.returncode == 2 and "Traceback" not in err, err
    for (_, namer, line), kind in zip(files, ("character device", "character device",
                                              "FIFO", "not a regular file"), strict=True):
        assert f"{namer}:{line}: {field}: " in err, err
        if kind != "not a regular file":  # stdin is a pipe here: reported as a FIFO
            assert any(ln.startswith(f"{namer}:{line}:") and kind in ln
                       for ln in err.splitlines()), err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_file_on_the_command_line_is_refused(tmp_path):
    """A device or FIFO given as the scenario itself is refused with its path, exit 2."""
    os.mkfifo(tmp_path / "fifo.yaml")
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", "/dev/zero",
                           tmp_path / "fifo.yaml", tmp_path], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, preexec_fn=_limited)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        "/dev/zero: is a character device, not a regular file",
        f"{tmp_path / 'fifo.yaml'}: is a FIFO (named pipe), not a regular file",
        f"{tmp_path}: is a folder, expected a file"]


# ------------------------------------------------------------- YAML syntax ---

@pytest.mark.parametrize("text, line", [
    ("title: x\ndescription: a\x00b\n", 2),   # raw NUL byte
    ("title: x\ndescription: a\x07b\n", 2),   # raw BEL byte
    ("title: x\nactors:\n\tUSA: {}\n", 3),    # tab indentation
    ("title: x\n  horizon_days: 3\n", 2),     # bad indentation
    ("title: 'unclosed\nhorizon_days: 3\n", 3),
])
def test_yaml_errors_are_one_located_line(tmp_path, text, line):
    """PyYAML's reader, scanner and parser errors become one FILE:LINE line each."""
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    proc = run_cli("validate", path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith(f"{path}:{line}: YAML syntax error: "), proc.stderr


# ---------------------------------------------------------------- merge keys ---

def test_merge_key_with_an_override_is_accepted(variant):
    """YAML merge keys: an explicit key overrides the merged one (YAML 1.1 merge spec)."""
    from sim.inputs.scenario import load_scenario
    path = variant("actors:\n  USA: &us\n    resolve: 0.6\n    inertia: 1.5\n"
                   "  VEN:\n    <<: *us\n    resolve: 0.3\n")
    scenario = load_scenario(path)
    ven = scenario.spec.actors["VEN"]
    assert (ven.resolve, ven.inertia) == (0.3, 1.5)
    assert scenario.where[("actors", "VEN", "resolve")] == (path, 8)


def test_duplicate_key_beside_a_merge_key_is_still_refused(variant, tmp_path):
    path = variant("actors:\n  USA: &us\n    resolve: 0.6\n"
                   "  VEN:\n    <<: *us\n    resolve: 0.3\n    resolve: 0.4\n")
    assert_rejected(path, tmp_path / "out", expect_line=8, field="actors.VEN.resolve",
                    words=("duplicate key (first given on line 7)",), cmd="validate")


# --------------------------------------------------------------------- ids ---

@pytest.mark.parametrize("bad", ['"U,SA"', '"U\\nSA"', "U.SA", "U_SA", "1USA", '"U SA"',
                                 "A" * 33, "USÄ"])
@pytest.mark.parametrize("where", ["actor", "seat"])
def test_actor_and_seat_ids_are_letters_and_digits(variant, bad, where):
    """Ids end up in CSV headers (joined with '_') and field paths (joined with '.')."""
    if where == "actor":
        path = variant(f"actors:\n  {bad}: {{name: X, kind: state}}\n")
        field = "actors."
    else:
        path = variant(f"actors:\n  UNSC:\n    council:\n      members:\n        {bad}: {{}}\n")
        field = "actors.UNSC.council.members."
    messages = refusal(path)
    assert len(messages) == 1, messages
    assert f": {field}" in messages[0] and "must be 1 to 32 ASCII letters and digits" in messages[0]
    assert "\n" not in messages[0]


def test_id_near_miss_is_suggested(variant):
    path = variant('actors:\n  "U-SA2": {name: X, kind: state}\n')
    assert "(did you mean 'USA2'?)" in refusal(path)[0]


def test_thirty_state_actors_are_accepted(variant, tmp_path):
    """A scenario with many actors validates (the bound is 100 actors)."""
    body = "".join(f"  S{k}: {{name: State {k}, kind: state}}\n" for k in range(26))
    proc = run_cli("validate", variant("actors:\n" + body))
    assert proc.returncode == 0, proc.stderr
    assert "30 actors" in proc.stdout


def test_more_than_a_hundred_actors_are_refused(variant):
    body = "".join(f"  S{k}: {{name: State {k}, kind: state}}\n" for k in range(97))
    messages = refusal(variant("actors:\n" + body))
    assert any(": actors: " in m and "at most 100" in m for m in messages), messages


# ------------------------------------------------------------------ bounds ---

@pytest.mark.parametrize("body, field, words", [
    ("outcomes:\n  war:\n    casualties: 1.0e+20\n", "outcomes.war.casualties",
     "must be <= 1000000000"),
    ("outcomes:\n  deescalated:\n    sustain_days: 1000000\n",
     "outcomes.deescalated.sustain_days", "must be <= 3650"),
    ("memory:\n  relax_days: 100000\n", "memory.relax_days", "must be <= 365"),
    ("montecarlo:\n  runs: 1000000000\n", "montecarlo.runs", "must be <= 100000000"),
    ("horizon_days: 100000\n", "horizon_days", "must be <= 3650"),
    ("actors:\n  UNSC:\n    council:\n      votes_to_pass: 100000\n",
     "actors.UNSC.council.votes_to_pass", "must be <= 200"),
])
def test_numbers_that_are_summed_or_cast_are_bounded(variant, body, field, words):
    messages = refusal(variant(body))
    assert any(f": {field}: " in m and words in m for m in messages), messages


def test_start_date_must_leave_room_for_the_longest_horizon(variant):
    """A start in year 9999 would overflow the calendar in `escsim story`: refused up front,
    and the last start date accepted has a calendar date for every day of 3,650."""
    import datetime as dt

    from sim.inputs.scenario import load_scenario
    from sim.model import story
    messages = refusal(variant("start_date: 9999-06-01\nhorizon_days: 30\n"))
    assert any(": start_date: must be <= 9990-01-02" in m for m in messages), messages
    # in 9990 only the five permanent members' open-ended seats sit
    last = load_scenario(variant("start_date: 9990-01-02\nhorizon_days: 3650\nactors:\n"
                                 "  UNSC:\n    council:\n      votes_to_pass: 5\n"))
    assert last.spec.start_date + dt.timedelta(days=3650) == dt.date(9999, 12, 31)
    text = story.tell(last, 0, seed=0)
    assert "3650 days from 9990-01-02" in text


def test_casualty_bounds_fit_the_int64_sums():
    """With every bound at its maximum, the summed casualties of the largest ensemble fit
    numpy's int64 (the aggregate sums whole deaths per run over all runs)."""
    import numpy as np

    from sim.inputs import catalogue, events
    from sim.inputs.scenario import MAX_ACTORS, MAX_HORIZON_DAYS, MAX_RUNS
    # a casualty draw is floor(-mean log(1 - u)) with u < 1 (docs/model.md), largest at the
    # largest u below 1
    worst_draw = np.floor(-catalogue.MAX_MEAN_CASUALTIES * np.log1p(-np.nextafter(1.0, 0.0)))
    per_run = (events.MAX_SEED_ACTS * events.MAX_EVENT_CASUALTIES
               + MAX_HORIZON_DAYS * MAX_ACTORS * worst_draw)
    assert per_run * MAX_RUNS < np.iinfo(np.int64).max


def test_capabilities_are_all_or_nothing(variant, tmp_path):
    """As docs/scenario-format.md says: without a block all three are 0; a block that
    leaves one out is refused, naming the missing field (a variant's block still merges
    into an inherited one key by key, so the new actor here inherits nothing)."""
    from sim.inputs.scenario import load_scenario
    absent = load_scenario(variant("actors:\n  CUB:\n    name: Cuba\n    kind: state\n",
                                   "absent.yaml"))
    caps = absent.spec.actors["CUB"].capabilities
    assert (caps.military, caps.naval, caps.economic) == (0.0, 0.0, 0.0)
    partial = variant("actors:\n  CUB:\n    name: Cuba\n    kind: state\n    capabilities:\n"
                      "      military: 0.1\n      naval: 0.1\n", "partial.yaml")
    lines = assert_rejected(partial, tmp_path / "out", expect_line=6)
    assert lines == [f"{partial}:6: actors.CUB.capabilities.economic: required field is missing"]


@pytest.mark.parametrize("body, line, field, words", [
    ("actors:\n  USA:\n    preset: coercr\n", 4, "actors.USA.preset",
     ("unknown preset 'coercr'", "did you mean 'coercer'?")),
    ("actors:\n  USA:\n    targets: alll\n", 4, "actors.USA.targets",
     ("must be 'all' or a list of actor ids", "did you mean 'all'?")),
    ("actors:\n  USA:\n    targets:\n      - VEN\n      - VNE\n", 6, "actors.USA.targets[1]",
     ("unknown actor 'VNE'", "did you mean 'VEN'?")),
    ("actors:\n  USA:\n    targets: [VEN, USA]\n", 4, "actors.USA.targets[1]",
     ("an actor cannot target itself",)),
    ("actors:\n  USA:\n    capabilities:\n      reach: 1.5\n", 5,
     "actors.USA.capabilities.reach", ("must be <= 1",)),
    ("actors:\n  UNSC:\n    council:\n      members:\n        DZA:\n          form: 2025-01-01\n",
     7, "actors.UNSC.council.members.DZA.form", ("unknown field", "did you mean 'from'?")),
    ("actors:\n  UNSC:\n    council:\n      members:\n        DZA:\n          from: 2026-01-01\n"
     "          until: 2025-12-31\n", 8, "actors.UNSC.council.members.DZA.until",
     ("the term ends (2025-12-31) before it starts (2026-01-01)",)),
])
def test_new_actor_and_seat_fields_are_checked(variant, tmp_path, body, line, field, words):
    """Presets, targets, reach and terms of office get the house error: file, line, field
    path, a hint for a near miss, exit status 2."""
    assert_rejected(variant(body), tmp_path / "out", expect_line=line, field=field, words=words)


def test_votes_must_be_reachable_on_every_day(variant, tmp_path):
    """A Council that can pass drafts in December but not after five seats leave on
    1 January (day 10 of the baseline) is refused at votes_to_pass, naming the first day
    with too few members: the baseline's 2026 newcomers removed leave 10 seats."""
    newcomers = "".join(f"        {m}: null\n" for m in ("BHR", "COL", "COD", "LVA", "LBR"))
    path = variant(f"actors:\n  UNSC:\n    council:\n      votes_to_pass: 11\n      members:\n"
                   f"{newcomers}")
    lines = assert_rejected(path, tmp_path / "out", expect_line=5,
                            field="actors.UNSC.council.votes_to_pass")
    assert lines == [f"{path}:5: actors.UNSC.council.votes_to_pass: 11 votes can never be "
                     "reached with 10 members sitting on day 10 (2026-01-01)"]
