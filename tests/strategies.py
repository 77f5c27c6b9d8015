"""Hypothesis strategies and profiles for the property-based tests.

Valid scenarios are drawn within the ranges documented in docs/scenario-format.md and
written as YAML text (scenario, seed-events file, source text), with seed events coded
from the shipped action catalogue so that they validate. Mutations turn the shipped
files into the kinds of broken input a fuzzing campaign tries.

Importing this module loads the example budget: the ``dev`` profile (a few examples, so
the property tests take well under a minute on a small machine) or, when the ``CI``
environment variable is set, the ``ci`` profile (many more examples, derandomized so a
CI failure is reproducible from the log).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from sim.inputs import catalogue as cat

# Examples are tiny engine runs whose time depends on the machine's load, so there is no
# per-example deadline. too_slow is suppressed because drawing one whole scenario (dozens
# of parameters, a seed file coded from the catalogue) legitimately takes a few hundred
# milliseconds on a busy machine; the check is meant for strategies that are slow by mistake.
settings.register_profile("dev", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(PROFILE)

MAX_LEVEL = 7
"""Top rung of the ladder (docs/scenario-format.md, Outcomes: 0 calm .. 7 war)."""

# ------------------------------------------------------------------ valid scenarios ---

ACTOR_ID = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,31}", fullmatch=True)
"""Actor and seat ids: 1 to 32 ASCII letters and digits, starting with a letter."""
FIRST_DATE = dt.date.min
LAST_DATE = dt.date.max - dt.timedelta(days=3650)
"""Latest start date: every day of the longest horizon (3,650 days) has a calendar date."""
EVENT_CASUALTIES = 10_000_000
"""Most deaths one seed event may report."""
WAR_CASUALTIES = 1_000_000_000
"""Largest war threshold in deaths."""

unit = st.floats(0, 1, allow_nan=False)
QUOTE_CHARS = st.characters(categories=("L", "N", "P", "Zs"))


@st.composite
def quotes(draw) -> str:
    """A quote: printable text without line breaks, at least three visible characters."""
    return draw(st.text(QUOTE_CHARS, min_size=3, max_size=30)
                .filter(lambda s: len(s.strip()) >= 3))


def _pick_event(draw, actions, actor: str, kinds: dict[str, str], council: str | None):
    """An action ``actor`` may take and a target of the kind it needs, or None."""
    allowed = [a for a in actions if kinds[actor] in a.actors]
    action = draw(st.sampled_from(allowed))
    if action.target == "none":
        return action, None
    if action.target == "institution":
        return (action, council) if council else None
    states = [s for s, k in kinds.items() if k == "state" and s != actor]
    return (action, draw(st.sampled_from(states))) if states else None


@st.composite
def council_section(draw, states: list[str], council: str) -> dict:
    """The Council's procedure and seats: some state actors, some parameter seats."""
    agents = draw(st.lists(st.sampled_from(states), unique=True, max_size=len(states)))
    others = draw(st.lists(ACTOR_ID.filter(lambda s: s not in states and s != council),
                           unique=True,
                           min_size=0 if agents else 1, max_size=6))
    members = {}
    for seat in agents:
        members[seat] = {"permanent": draw(st.booleans())}
    for seat in others:
        members[seat] = {
            "permanent": draw(st.booleans()),
            "yes_probability": draw(unit),
            "yes_probability_by_target": draw(st.dictionaries(st.sampled_from(states), unit,
                                                              max_size=len(states))),
            "veto_probability": draw(unit),
        }
    return {
        "meeting_delay_days": draw(st.integers(0, 60)),
        "session_days": draw(st.integers(1, 60)),
        "votes_to_pass": draw(st.integers(1, len(members))),
        "activism": draw(st.floats(0, 10)),
        "resolution_cost": draw(st.floats(0, 10)),
        "restraint_days": draw(st.integers(1, 365)),
        "veto_cost": draw(st.floats(0, 10)),
        "members": members,
    }


def _actor(draw, aid: str, states: list[str]) -> dict:
    others = [s for s in states if s != aid]
    return {
        "name": draw(st.text(QUOTE_CHARS, min_size=1, max_size=20)),
        "kind": "state",
        "capabilities": {k: draw(unit) for k in ("military", "naval", "economic")},
        "resolve": draw(unit),
        "reciprocity": draw(st.floats(0, 5)),
        "risk_aversion": draw(st.floats(0, 5)),
        "rationality": draw(st.floats(0, 100)),
        "audience_cost": draw(st.floats(0, 5)),
        "inertia": draw(st.floats(0, 10)),
        "pressure": draw(st.dictionaries(st.sampled_from(others), unit, max_size=len(others))),
        "commitments": draw(st.dictionaries(st.sampled_from(others), unit,
                                            max_size=len(others))),
    }


@st.composite
def scenarios(draw, max_days: int = 40):
    """A valid scenario as (scenario, seed-events file, source text) data.

    2 to 6 states and maybe the Council; every parameter within its documented range;
    a random schedule, random outcome thresholds, seed events coded from the catalogue
    and quoting the source text.
    """
    catalogue = cat.load()
    actions = list(catalogue.actions)
    states = draw(st.lists(ACTOR_ID, min_size=2, max_size=6, unique=True))
    actors = {aid: _actor(draw, aid, states) for aid in states}
    kinds = dict.fromkeys(states, "state")
    council = None
    if draw(st.booleans()):
        council = draw(ACTOR_ID.filter(lambda s: s not in states))
        actors[council] = {
            "name": "Security Council", "kind": "institution",
            "rationality": draw(st.floats(0, 100)), "inertia": draw(st.floats(0, 10)),
            "council": draw(council_section(states, council)),
        }
        kinds[council] = "institution"
    horizon = draw(st.integers(1, max_days))

    source_quotes = draw(st.lists(quotes(), min_size=1, max_size=4))
    events = []
    for k in range(draw(st.integers(1, 8))):
        actor = draw(st.sampled_from(list(kinds)))
        picked = _pick_event(draw, actions, actor, kinds, council)
        if picked is None:
            continue
        action, target = picked
        events.append({
            "id": f"e{k}", "day": draw(st.integers(-3650, 0)), "actor": actor,
            "target": target, "action": action.id, "cameo": action.cameo,
            "plover": action.plover, "goldstein": action.goldstein,
            "severity": {"level": action.level, **action.severity.model_dump()},
            "count": draw(st.integers(1, 100)),
            "casualties": draw(st.integers(0, EVENT_CASUALTIES)
                               | st.floats(0, EVENT_CASUALTIES)),
            "quote": draw(st.sampled_from(source_quotes)),
        })
    if not events:  # a seed file needs one event: a statement to the public
        action = catalogue["make_statement"]
        events.append({"id": "e-statement", "day": 0, "actor": states[0], "target": None,
                       "action": action.id, "cameo": action.cameo, "plover": action.plover,
                       "goldstein": action.goldstein,
                       "severity": {"level": action.level, **action.severity.model_dump()},
                       "quote": source_quotes[0]})
    schedule = []
    for _ in range(draw(st.integers(0, 5))):
        actor = draw(st.sampled_from(list(kinds)))
        picked = _pick_event(draw, actions, actor, kinds, council)
        if picked is not None:
            schedule.append({"day": draw(st.integers(1, horizon)), "actor": actor,
                             "action": picked[0].id, "target": picked[1]})

    outcomes = {
        "deescalated": {"max_level": draw(st.integers(0, MAX_LEVEL)),
                        "sustain_days": draw(st.integers(1, 3650))},
        "militarized_clash": {"min_level": draw(st.integers(1, MAX_LEVEL))},
        "war": {"min_level": draw(st.integers(1, MAX_LEVEL)),
                "casualties": draw(st.integers(1, WAR_CASUALTIES)
                                   | st.floats(1, WAR_CASUALTIES))},
    }
    if draw(st.booleans()):
        pair = draw(st.permutations(states))[:2]
        outcomes["great_power_confrontation"] = {"actors": pair,
                                                 "min_level": draw(st.integers(1, MAX_LEVEL))}
    scenario = {
        "title": draw(st.text(QUOTE_CHARS, min_size=1, max_size=40)),
        "start_date": draw(st.dates(FIRST_DATE, LAST_DATE)),
        "horizon_days": horizon,
        "seed_events": "seeds.events.yaml",
        "exclude_events": draw(st.lists(st.sampled_from([e["id"] for e in events]),
                                        unique=True)),
        "scoring": draw(st.sampled_from(cat.SCHEMES)),
        "actors": actors,
        "schedule": schedule,
        "outcomes": outcomes,
        "memory": {"decay": draw(st.floats(0, 1, exclude_min=True, exclude_max=True)),
                   "relax_days": draw(st.integers(1, 365)),
                   "threat_days": draw(st.integers(1, 365))},
        "montecarlo": {"runs": draw(st.integers(1, 50)), "seed": draw(st.integers(0, 2**63 - 1))},
    }
    seeds = {"source": "source.txt", "events": events}
    filler = draw(st.lists(quotes(), max_size=3))
    source = "\n".join(draw(st.permutations(source_quotes + filler))) + "\n"
    return scenario, seeds, source


def write_case(folder, case) -> os.PathLike:
    """Write a drawn scenario as YAML text into ``folder``; return the scenario's path."""
    scenario, seeds, source = case
    (folder / "source.txt").write_text(source, encoding="utf-8")
    (folder / "seeds.events.yaml").write_text(_dump(seeds), encoding="utf-8")
    path = folder / "scenario.yaml"
    path.write_text(_dump(scenario), encoding="utf-8")
    return path


def _dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


# ------------------------------------------------------------------ mutations ---------

NUMBER = re.compile(rb"(?<![\w.])-?\d+(\.\d+)?([eE][-+]?\d+)?(?![\w.])")
KEY = re.compile(rb"^(\s*(?:- )?)([A-Za-z_][A-Za-z0-9_]*):")
PATH_FIELD = re.compile(rb"^(\s*)(extends|seed_events|source):.*$", re.M)
ODD_NUMBERS = [b"-1", b"0", b"-0.0", b"1e20", b"-1e20", b"1e308", b"1e309", b".nan", b".inf",
               b"-.inf", b"99999999999999999999999", b"9223372036854775808", b"2.5", b"0x1F",
               b"'7'", b"seven", b"~", b"true", b"1_000", b"0o17", b"1e-320"]
ODD_VALUES = [b"[]", b"{}", b"[1, 2]", b"{a: 1}", b"null", b"true", b'"x"', b"- 1", b"&a 1",
              b"*a", b"!!python/object:os.system 1", b"!!binary aGk=", b"|\n  text",
              b"2025-13-45", b"[[[[[[[[[[]]]]]]]]]]"]
ODD_BYTES = [b"\x00", b"\x07", b"\t", b"\xff\xfe", b"\x80", b"\r", b"\x1b[31m", b"\xef\xbb\xbf",
             "\u2028".encode(), "\u0085".encode(), b"\x0c", b"\\", b"'", b'"', b"%", b"@",
             b"\n---\n", b"\n...\n", b": ", b"#", b"{", b"]", b"&", b"*", b"!"]
ODD_IDS = ["U,SA", "U\nSA", "U SA", "USA ", "\u00dcSA", "U-SA", "U_SA", "U.SA", "1USA", "",
           "U\tSA", "\U0001d54cSA", 'U"SA', "U'SA", "U#SA", "U:SA", "USA" * 40, "null",
           "U/SA", "../USA", "U\x00SA", "U\u202eSA", "U%sSA", "<script>"]
SPECIAL_PATHS = ["/dev/zero", "/dev/urandom", "/dev/null", "/proc/self/mem", "/",
                 ".", "..", "", " ", "missing.yaml", "a" * 300 + ".yaml",
                 "/" + "d/" * 2100 + "x.yaml", "x\x00y.yaml", "~/x.yaml", "*.yaml",
                 "@fifo", "@folder", "@loop", "@zero-link", "@socket", "@empty"]
"""Odd values for path fields; ``@name`` is a special file made per example."""
ODD_FILE_NAMES = ["...yaml", "..yaml", ".yaml", "a b.yaml", "x,y.yaml", "\u00fc.yaml",
                  "-x.yaml", "x\n.yaml", "x.yml", "x", "$(id).yaml", "a" * 250 + ".yaml",
                  "report.html", "x\u202e.yaml"]
"""Odd names for the edited file itself (the scenario's name comes from its file name)."""


@st.composite
def mutations(draw) -> tuple:
    """One edit of a file, as (operation, parameters); see :func:`apply`."""
    op = draw(st.sampled_from(["delete", "duplicate", "replace", "number", "key", "type",
                               "bytes", "path", "actor", "filename"]))
    where = draw(st.integers(0, 10_000))
    if op == "replace":
        return op, where, draw(st.integers(0, 10_000))
    if op == "number":
        return op, where, draw(st.sampled_from(ODD_NUMBERS)
                               | st.integers(-(2**70), 2**70).map(lambda n: str(n).encode())
                               | st.floats(allow_nan=False).map(lambda x: repr(x).encode()))
    if op == "key":
        return op, where, draw(st.sampled_from(["drop", "double", "upper", "swap", "space"]))
    if op == "type":
        return op, where, draw(st.sampled_from(ODD_VALUES))
    if op == "bytes":
        return op, where, draw(st.integers(0, 200)), draw(st.sampled_from(ODD_BYTES))
    if op == "path":
        return op, where, draw(st.sampled_from(SPECIAL_PATHS))
    if op == "filename":
        return op, draw(st.sampled_from(ODD_FILE_NAMES))
    if op == "actor":
        return op, draw(st.sampled_from(["USA", "VEN", "RUS", "UNSC", "CHN", "FRA"])), \
            draw(st.sampled_from(ODD_IDS))
    return op, where


def _rename(key: bytes, how: str) -> bytes:
    if how == "drop":
        return key[:-1] or b"x"
    if how == "double":
        return key + key[-1:]
    if how == "upper":
        return key.upper() if key != key.upper() else key.lower()
    if how == "swap":
        return key[1:2] + key[:1] + key[2:] if len(key) > 1 else key + b"_"
    return key + b" x"


def _next_match(lines: list[bytes], start: int, match):
    """The first line from ``start`` on (wrapping around) where ``match`` finds something."""
    for k in range(len(lines)):
        j = (start + k) % len(lines)
        m = match(lines[j])
        if m:
            return j, m
    return None


def apply(mutation: tuple, data: bytes, special: dict[str, str]) -> bytes:
    """Apply one mutation to a file's bytes (line indices wrap around).

    ``special`` maps the ``@name`` entries of :data:`SPECIAL_PATHS` to real paths.
    The caller applies ``actor`` mutations to every file (see :func:`rename_actor`) and
    ``filename`` mutations by renaming the file.
    """
    lines = data.splitlines(keepends=True) or [b"\n"]
    op, where = mutation[0], mutation[1]
    i = where % len(lines) if isinstance(where, int) else 0
    line = lines[i]
    if op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(i, line)
    elif op == "replace":
        lines[i] = lines[mutation[2] % len(lines)]
    elif op in ("number", "key", "type"):
        found = _next_match(lines, i, NUMBER.search if op == "number" else KEY.match)
        if found:
            j, m = found
            if op == "number":
                lines[j] = lines[j][:m.start()] + mutation[2] + lines[j][m.end():]
            elif op == "key":
                lines[j] = m.group(1) + _rename(m.group(2), mutation[2]) + lines[j][m.end(2):]
            else:
                lines[j] = lines[j][:m.end()] + b" " + mutation[2] + b"\n"
    elif op == "bytes":
        pos = mutation[2] % (len(line) + 1)
        lines[i] = line[:pos] + mutation[3] + line[pos:]
    elif op == "path":
        value = special.get(mutation[2], mutation[2])
        text = b"".join(lines)
        matches = list(PATH_FIELD.finditer(text))
        if not matches:
            return b"extends: " + json.dumps(value).encode() + b"\n" + text
        m = matches[where % len(matches)]
        return (text[:m.start()] + m.group(1) + m.group(2) + b": "
                + json.dumps(value).encode() + text[m.end():])
    return b"".join(lines)


def rename_actor(data: bytes, old: str, new: str) -> bytes:
    """Rename actor ``old`` to ``new`` wherever it appears as a whole word (YAML-quoted)."""
    pattern = re.compile(rb"(?<![A-Za-z0-9_])" + re.escape(old.encode()) + rb"(?![A-Za-z0-9_])")
    return pattern.sub(lambda _: json.dumps(new, ensure_ascii=False).encode(), data)
