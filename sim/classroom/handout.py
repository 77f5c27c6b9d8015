"""``escsim handout SCENARIO``: a class's printable handouts, generated from the scenario file.

One self-contained HTML page (inline CSS, a print stylesheet, no script and no
external file) holds the scenario's info card, one role brief per actor, a
prediction sheet and a debrief worksheet, each section starting on a new
printed page. Every statement in a role brief is derived from the scenario's
parameters, never from actor ids: the role (coercer, target, patron, Council,
bystander) comes from the actors' ``pressure`` and ``commitments``, the
private aims and red lines from those and the decision parameters, the moves
from the action catalogue. A PDF is printed by a headless Chromium when one
is found (WeasyPrint needs system libraries a fresh machine may lack).

The folder ``OUT/<scenario>/handout-<UTC time>/`` is staged and moved into
place only when complete (:func:`sim.results.folders.staging`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sim.classroom.predictions import OUTCOME_IDS
from sim.errors import ResourceError
from sim.inputs import catalogue as cat
from sim.inputs import events as seedmod
from sim.inputs.scenario import CARD_SECTIONS, Scenario, load_scenario
from sim.model.outcomes import OUTCOMES
from sim.results import folders
from sim.results.report import CSS as REPORT_CSS
from sim.results.report import esc, table
from sim.version import __version__

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
"""Programs looked for on PATH, after ``ESCSIM_CHROMIUM``."""
PDF_TIMEOUT = 120
"""Seconds Chromium may take to print the PDF before it is stopped."""

THIAGARAJAN = ("Thiagarajan, S. (1992). Using games for debriefing. "
               "<em>Simulation &amp; Gaming</em> 23(2), 161-173.")

# Bands that put a parameter into words: (upper bound of "low", upper bound of "moderate").
# They are for reading only (the model uses the number, which the brief prints beside the
# word); the cuts sit around the role presets' values (sim/inputs/data/presets.yaml), so
# that the shipped actors spread over the three words.
BANDS = {
    "resolve": (0.4, 0.6),
    "reciprocity": (0.5, 1.0),
    "risk_aversion": (0.5, 0.75),
    "rationality": (2.0, 6.0),
    "audience_cost": (0.4, 0.6),
    "inertia": (0.8, 1.5),
    "reach": (0.4, 0.7),
    "strength": (0.3, 0.7),  # capabilities, relative to the strongest actor (1)
    "stake": (0.3, 0.6),  # pressure and commitments
}
BAND_WORDS = {"strength": ("weak", "considerable", "strong"),
              "stake": ("slight", "moderate", "strong")}

# What each decision parameter means for the player, per band (low, moderate, high).
TRAITS = {
    "resolve": ("Resolve", (
        "the costs of escalation weigh heavily on you, and casualties wear you down fast",
        "escalation has a real cost for you, and casualties wear you down over time",
        "the costs of escalation weigh little on you, and casualties wear you down slowly")),
    "reciprocity": ("Reciprocity", (
        "you do not feel bound to answer each move in kind",
        "you tend to answer hostility with hostility and cooperation with cooperation",
        "you answer every move in kind, hostility with hostility, goodwill with goodwill")),
    "risk_aversion": ("Risk aversion", (
        "the risk of war does not hold you back much",
        "you weigh the risk of war, more so as tension rises",
        "you fear war: every rung up weighs heavily, above all when tension is already "
        "high, and lowering tension by cooperating appeals to you")),
    "audience_cost": ("Audience cost", (
        "your leaders can back down from a public threat at little cost at home",
        "backing down from a public threat, or yielding, costs your leaders at home",
        "backing down from a public threat, or yielding, would cost your leaders dearly at "
        "home: once you threaten, you are expected to follow through")),
    "rationality": ("Decision style", (
        "the model plays your side erratically: often not its best move",
        "the model plays your side deliberately, but not always its best move",
        "the model plays your side as a calculator: nearly always its best move")),
    "inertia": ("Inertia", (
        "you act on most days",
        "you act on some days, not every day",
        "you act rarely: on most days you hold")),
}
COUNCIL_TRAITS = ("rationality", "inertia")  # the only decision parameters the Council reads

ROLE_NAMES = {"council": "the Council", "coercer": "coercer", "target": "target",
              "patron": "patron", "bystander": "bystander"}


def band(kind: str, value: float) -> int:
    """0, 1 or 2: the band (low, moderate, high) of ``value`` for a parameter ``kind``."""
    low, moderate = BANDS[kind]
    return 0 if value < low else 1 if value < moderate else 2


def band_word(kind: str, value: float) -> str:
    """The band of ``value`` in a word ("high", "weak", "strong"...)."""
    return BAND_WORDS.get(kind, ("low", "moderate", "high"))[band(kind, value)]


def num(value: float) -> str:
    """A parameter's value as the brief prints it (two decimals, or fewer when exact)."""
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"


def rung_name(catalogue: cat.Catalogue, level: int) -> str:
    """Short name of a ladder rung ("threat of force")."""
    return catalogue.levels[level].split(" (")[0]


# ------------------------------------------------------------------- roles ---

@dataclass(frozen=True)
class Role:
    """One role an actor holds in the crisis, with the actors it concerns."""

    kind: str  # council, coercer, target, patron or bystander
    others: tuple[str, ...] = ()  # whom: targets, coercers, allies (ids)


def roles(scenario: Scenario, aid: str) -> list[Role]:
    """The actor's roles, from the scenario's aims and commitments (never from its id).

    A coercer presses someone (``pressure``); a target is pressed; a patron is
    committed to a pressed state; the institution is the Council; a state with
    none of these is a bystander. An actor may hold several roles.
    """
    actors = scenario.spec.actors
    actor = actors[aid]
    if actor.kind == "institution":
        return [Role("council")]
    pressed_by = {j: tuple(i for i in sorted(actors) if actors[i].pressure.get(j, 0) > 0)
                  for j in actors}
    out = []
    if aims := tuple(j for j in sorted(actor.pressure) if actor.pressure[j] > 0):
        out.append(Role("coercer", aims))
    if pressed_by[aid]:
        out.append(Role("target", pressed_by[aid]))
    if allies := tuple(j for j in sorted(actor.commitments)
                       if actor.commitments[j] > 0 and pressed_by[j]):
        out.append(Role("patron", allies))
    return out or [Role("bystander")]


def council_of(scenario: Scenario):
    """The Council's procedure, or None without one."""
    return next((a.council for a in scenario.spec.actors.values() if a.council), None)


# --------------------------------------------------------------- the texts ---

class Brief:
    """The plain-language statements of one actor's brief, derived from the scenario."""

    def __init__(self, scenario: Scenario, aid: str, catalogue: cat.Catalogue):
        self.scenario, self.aid, self.catalogue = scenario, aid, catalogue
        self.spec = scenario.spec
        self.actor = self.spec.actors[aid]
        self.roles = roles(scenario, aid)

    def name(self, aid: str) -> str:
        """An actor's display name."""
        return self.spec.actors[aid].name

    def names(self, ids) -> str:
        """Display names joined in plain English."""
        words = [self.name(i) for i in ids]
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    def role_line(self) -> str:
        """"Your role: coercer (of Venezuela) and patron (of Honduras)"."""
        parts = []
        for role in self.roles:
            whom = {"coercer": "pressing", "target": "pressed by", "patron": "backing"}
            parts.append(ROLE_NAMES[role.kind] + (f" ({whom[role.kind]} "
                                                  f"{self.names(role.others)})"
                                                  if role.others else ""))
        return " and ".join(parts)

    def aims(self) -> list[str]:
        """Private aims: what the actor demands of whom, whom it backs and how firmly."""
        out = []
        a = self.actor
        for j, p in sorted(a.pressure.items()):
            if p > 0:
                out.append(f"You demand that {self.name(j)} change course: your pressure on it "
                           f"is {band_word('stake', p)} ({num(p)} on a 0-1 scale). Hurting it "
                           "serves this aim, the more so the stronger you are locally; "
                           "cooperating with it gives up part of the aim.")
        for j, c in sorted(a.commitments.items()):
            if c > 0:
                pressed = [i for i, other in sorted(self.spec.actors.items())
                           if other.pressure.get(j, 0) > 0]
                line = (f"You promised to back {self.name(j)}, {band_word('stake', c)}ly "
                        f"(commitment {num(c)}): its backing by you deters its adversaries, "
                        "and you are expected to support it when it is pressed")
                line += (f" (it is pressed by {self.names(pressed)})." if pressed else ".")
                out.append(line)
        for role in self.roles:
            if role.kind == "target":
                for c in role.others:
                    demand = self.spec.actors[c].pressure[self.aid]
                    out.append(f"{self.name(c)} demands that you change course (its pressure "
                               f"on you: {num(demand)}). Yielding would cost you in proportion "
                               f"to that demand and to your resolve ({num(self.actor.resolve)})"
                               ", and your leaders would pay an audience cost at home.")
        if self.actor.kind == "institution":
            council = self.actor.council
            out.append(f"The Council acts when tension rises (activism {num(council.activism)}"
                       f"): it meets {council.meeting_delay_days} days after a member's "
                       f"request, stays in session {council.session_days} days, and may call "
                       "for restraint, offer good offices, send a fact-finding mission or put "
                       "a draft resolution to the vote.")
        if not out:
            out.append("You have no aim against anyone and no commitment to anyone in this "
                       "crisis.")
        return out

    def red_lines(self) -> list[str]:
        """Lines the actor should not cross, from commitments, threats and great powers."""
        out = []
        a = self.actor
        for j, c in sorted(a.commitments.items()):
            if c > 0:
                out.append(f"Never act against {self.name(j)}: your commitment makes any "
                           "hostility against it count against you.")
        for role in self.roles:
            if role.kind == "target":
                out.append(f"Do not yield to {self.names(role.others)}: conceding is the "
                           "defeat you must avoid.")
            if role.kind == "coercer":
                out.append(f"Do not make concessions to {self.names(role.others)} before "
                           "your aim is reached.")
        for t in binding_threats(self.scenario):
            if t.actor == self.aid:
                open_aim = a.pressure.get(t.target, 0) > 0
                out.append(f"Your public threat against {self.name(t.target)} (day {t.day}) "
                           f"binds until day {t.until}: " + (
                               f"until then every choice short of force costs you your "
                               f"audience cost ({band_word('audience_cost', a.audience_cost)}"
                               f", {num(a.audience_cost)}), a concession more so."
                               if open_aim else
                               "you have no aim against it, so dropping it costs you nothing."))
            elif t.target == self.aid:
                out.append(f"{self.name(t.actor)}'s public threat against you (day {t.day}) "
                           f"binds until day {t.until}.")
        gp = self.spec.outcomes.great_power_confrontation
        if gp and self.aid in gp.actors:
            other = gp.actors[1 - gp.actors.index(self.aid)]
            out.append(f"A face-off between you and {self.name(other)} at rung "
                       f"{gp.min_level} ({rung_name(self.catalogue, gp.min_level)}) or "
                       "above, in either direction, is a great-power confrontation: the "
                       "most dangerous outcome of all.")
        if self.actor.kind == "institution":
            out.append("The Council never uses force: its weight is its procedure, its "
                       "calls and its resolutions.")
        return out or ["None beyond your own judgement."]

    def traits(self) -> list[tuple[str, str]]:
        """(label, sentence) for each decision parameter, capability and reach."""
        a = self.actor
        keys = COUNCIL_TRAITS if a.kind == "institution" else list(TRAITS)
        out = []
        for key in keys:
            label, words = TRAITS[key]
            value = getattr(a, key)
            out.append((label, f"{band_word(key, value)} ({num(value)}): "
                        f"{words[band(key, value)]}."))
        if a.kind == "state":
            caps = a.capabilities
            out.append(("Strength", ", ".join(
                f"{what} {band_word('strength', getattr(caps, what))} "
                f"({num(getattr(caps, what))})" for what in ("military", "naval", "economic"))
                + " (1 = the strongest actor in the scenario)."))
            out.append(("Reach", f"{band_word('reach', caps.reach)} ({num(caps.reach)}): "
                        f"{num(100 * caps.reach)}% of your military strength counts in the "
                        "theatre of the crisis, for you and for the allies you back."))
        return out

    def winning(self) -> list[str]:
        """What winning means for each of the actor's roles."""
        gp = self.spec.outcomes.great_power_confrontation
        out = []
        for role in self.roles:
            if role.kind == "coercer":
                out.append(f"Coercer: {self.names(role.others)} complies with your demands or "
                           "its government falls, and the crisis does not end in war"
                           + (" or a great-power confrontation" if gp else "") + ".")
            elif role.kind == "target":
                out.append("Target: your government still stands at the end and you have not "
                           f"yielded to {self.names(role.others)}, without a war.")
            elif role.kind == "patron":
                clash = ("without a great-power confrontation" if gp and self.aid in gp.actors
                         else "without being drawn into war")
                out.append(f"Patron: {self.names(role.others)} keeps its government and does "
                           f"not yield, {clash}.")
            elif role.kind == "council":
                dz = self.spec.outcomes.deescalated
                out.append(f"The Council: peace. The crisis ends de-escalated: every pair of "
                           f"states at rung {dz.max_level} or below for the last "
                           f"{dz.sustain_days} days.")
            else:
                out.append("Bystander: stay out of it. The crisis settles without war, and no "
                           "one turns against you.")
        return out


@dataclass(frozen=True)
class Threat:
    """A public threat made before day 0 that still binds at the start of play."""

    actor: str
    target: str
    day: int
    until: int


def binding_threats(scenario: Scenario) -> list[Threat]:
    """Seed events that are public threats still binding on day 1.

    A threat binds ``memory.threat_days`` after the day it was made, or the
    action's own deadline (an ultimatum); so a threat of day -3 under a 30-day
    memory binds until day 27.
    """
    catalogue = cat.load()
    out = []
    for ev in scenario.events:
        effects = catalogue[ev.action].effects
        if effects.threat and ev.target is not None:
            until = ev.day + (effects.deadline_days or scenario.spec.memory.threat_days)
            if until >= 1:
                out.append(Threat(ev.actor, ev.target, ev.day, until))
    return out


# ------------------------------------------------------------------- moves ---

def conditions(action: cat.Action) -> list[str]:
    """When an action can be taken, in words (its catalogue ``requires``, capabilities aside)."""
    r = action.requires
    words = []
    if r.min_level is not None:
        words.append(f"tension with the target at rung {r.min_level} or above")
    if r.min_level_against_actor is not None:
        words.append(f"someone holds rung {r.min_level_against_actor} or above against you")
    if r.min_level_by_target is not None:
        words.append(f"the target holds rung {r.min_level_by_target} or above against someone")
    if r.target_under_pressure is not None:
        words.append(f"the target is pressed at rung {r.target_under_pressure} or above")
    if r.commitment is not None:
        words.append(f"an ally you are committed to at {num(r.commitment)} or more")
    if r.holds_assets:
        words.append("you hold its seized property")
    if r.no_pending_meeting:
        words.append("no Council meeting pending or in session")
    if r.meeting_due:
        words.append("on the day a requested meeting is due")
    if r.in_session:
        words.append("while the Council is in session")
    if r.once_per_session:
        words.append("once per target per session")
    if r.vote_only:
        words.append("only in a vote, by a permanent member")
    if r.demanded:
        words.append("the target has an open demand on you")
    return words


def consequences(action: cat.Action, scenario: Scenario) -> list[str]:
    """What taking the action does, in words (its catalogue ``effects``)."""
    e = action.effects
    spec = scenario.spec
    council = council_of(scenario)
    words = []
    if e.threat:
        days = e.deadline_days or spec.memory.threat_days
        words.append(f"a public threat: it binds you for {days} days")
    if e.seize_assets:
        words.append("you hold what you seize")
    if e.release_assets:
        words.append("returns what you hold")
    if e.casualties:
        words.append(f"about {num(e.casualties)} deaths on average")
    if e.topple:
        words.append("may bring down the target's government, more likely the stronger you "
                     "are locally")
    if e.lower_level:
        words.append(f"lowers tension by {e.lower_level} rung both ways")
    if e.ceasefire is not None:
        words.append(f"caps the fight at rung {e.ceasefire} both ways")
    if e.capability_transfer:
        words.append("adds to the target's military strength")
    if e.third_party_hostility:
        words.append("those pressing the target count it as hostility against you")
    if e.request_meeting and council:
        words.append(f"the Council meets {council.meeting_delay_days} days later")
    if e.convene and council:
        words.append(f"the Council is in session for {council.session_days} days")
    if e.restraint and council:
        words.append(f"every state's escalation costs more for {council.restraint_days} days")
    if e.mediation:
        words.append(f"remembered hostility between states falls by {num(100 * e.mediation)}%")
    if e.fact_finding:
        words.append("the target's escalation costs more")
    if e.resolution and council:
        words.append(f"adopted with {council.votes_to_pass} yes votes and no veto; its target's "
                     "escalation then costs more")
    if e.offer:
        words.append("terms on the table: yielding becomes cheaper for the target")
    if e.comply:
        words.append("you yield: the demand is met and tension drops to words")
    return words


TARGET_WORDS = {"state": "a state", "institution": "the Council", "none": "no one"}
MOVE_HEADERS = ["rung", "move \u2192 against", "only when", "what it does"]


def possible(action: cat.Action, scenario: Scenario, aid: str, catalogue: cat.Catalogue
             ) -> bool:
    """Whether the scenario ever lets the actor take ``action``, capabilities aside.

    Left out: a move needing a Council the scenario lacks, the veto without a
    permanent seat, yielding without anyone pressing the actor, aid without an
    ally committed enough, releasing property the actor can never hold.
    """
    actor = scenario.spec.actors[aid]
    r = action.requires
    council = council_of(scenario)
    if actor.kind not in action.actors or (action.target == "institution" and not council):
        return False
    if r.vote_only:
        return bool(council and aid in council.members and council.members[aid].permanent)
    if r.demanded:
        return any(role.kind == "target" for role in roles(scenario, aid))
    if r.commitment is not None and max(actor.commitments.values(), default=0) < r.commitment:
        return False
    if r.holds_assets:
        seizes = [a for a in catalogue.actions if a.effects.seize_assets and
                  actor.kind in a.actors and all(getattr(actor.capabilities, what) >= need
                                                 for what, need in a.requires.capability.items())]
        held = any(ev.actor == aid and catalogue[ev.action].effects.seize_assets
                   for ev in scenario.events)
        return bool(seizes) or held
    return True


def moves(scenario: Scenario, aid: str, catalogue: cat.Catalogue
          ) -> tuple[list[cat.Action], list[tuple[cat.Action, str]]]:
    """The actions the actor may take, and those beyond its capabilities (with what they need).

    Only the moves :func:`possible` for the actor are listed.
    """
    actor = scenario.spec.actors[aid]
    usable, beyond = [], []
    for action in catalogue.actions:
        if not possible(action, scenario, aid, catalogue):
            continue
        short = [f"{what} {num(need)}" for what, need in sorted(action.requires.capability.items())
                 if getattr(actor.capabilities, what) < need]
        if short:
            beyond.append((action, ", ".join(short)))
        else:
            usable.append(action)
    return usable, beyond


def targets_line(brief: Brief) -> str:
    """Whom the actor may act against."""
    t = brief.actor.targets
    if brief.actor.kind == "institution":
        return "The Council's drafts and missions may name any state."
    if t == "all":
        return "You may act against any actor."
    if t:
        return f"You may act against {brief.names(t)}."
    return ("You act against the states that matter to you today: those you have an aim "
            "against or a commitment to, those in a quarrel with you, and those pressing an "
            "ally of yours.")


# ------------------------------------------------------------------- pages ---

def _date(scenario: Scenario, day: int) -> str:
    try:
        return (scenario.spec.start_date + dt.timedelta(days=day)).isoformat()
    except OverflowError:
        return ""


def situation(scenario: Scenario, seeds: seedmod.SeedFile, catalogue: cat.Catalogue) -> str:
    """The public situation: the description, the seed events and the scheduled moves."""
    spec = scenario.spec
    names = {a: x.name for a, x in spec.actors.items()}
    rows = []
    for ev in sorted(scenario.events, key=lambda ev: ev.day):  # the file's order is free
        what = catalogue[ev.action].name + (f" (\u00d7{ev.count})" if ev.count > 1 else "")
        if ev.casualties:
            what += f"; {num(ev.casualties)} deaths reported"
        source = [f"\u201c{esc(ev.quote)}\u201d" if ev.quote else esc(ev.note or "")]
        if ev.url:
            source.append(f'<a href="{esc(ev.url)}">{esc(ev.url)}</a>')
        rows.append([f"{ev.day}<br><small>{esc(_date(scenario, ev.day))}</small>",
                     f"{esc(names[ev.actor])} <em>{esc(what)}</em>"
                     + (f" \u2192 {esc(names[ev.target])}" if ev.target else ""),
                     "<br>".join(s for s in source if s)])
    origin = f"coded from <em>{esc(seeds.source)}</em>" if seeds.source else \
        "coded from the public records linked"
    if seeds.source_date:
        origin += f" ({seeds.source_date.isoformat()})"
    out = [f"<p>{esc(spec.description)}</p>" if spec.description else "",
           f"<p>Day 0 is {spec.start_date.isoformat()}; the crisis is played for "
           f"{spec.horizon_days} days. What happened before day 0 ({origin}):</p>",
           table(["day", "who did what (\u2192 to whom)", "source"], rows, {0})]
    if spec.schedule:
        planned = [f"day {ev.day}: {esc(names[ev.actor])} will "
                   f"{esc(catalogue[ev.action].name)}"
                   + (f" against {esc(names[ev.target])}" if ev.target else "")
                   + (f" (\u201c{esc(ev.quote)}\u201d)" if ev.quote else "")
                   for ev in spec.schedule]
        out.append("<p>Announced: " + "; ".join(planned) + ".</p>")
    return "\n".join(out)


def _list(items, tag="ul") -> str:
    return f"<{tag}>" + "".join(f"<li>{esc(i)}</li>" for i in items) + f"</{tag}>"


def council_powers(scenario: Scenario) -> str:
    """The Council's votes and veto powers, for the Council's brief."""
    council = council_of(scenario)
    actors = scenario.spec.actors
    start = scenario.spec.start_date + dt.timedelta(days=1)
    sitting = sum(seat.sits(start) for seat in council.members.values())
    rows = []
    for mid, seat in sorted(council.members.items()):
        if not seat.permanent:
            continue
        if mid in actors:
            allies = [j for j, c in sorted(actors[mid].commitments.items()) if c > 0]
            how = ("votes by its own decision rule: vetoes a draft against itself"
                   + (f" or its ally {', '.join(actors[j].name for j in allies)}"
                      if allies else ""))
            name = actors[mid].name
        else:
            by = ", ".join(f"{num(100 * p)}% if the draft targets {actors[t].name}"
                           for t, p in sorted(seat.veto_probability_by_target.items()))
            how = (f"vetoes a draft it does not vote for with chance "
                   f"{num(100 * seat.veto_probability)}%" + (f" ({by})" if by else ""))
            name = mid
        rows.append([esc(name), esc(how)])
    return (f"<p>A draft resolution is adopted with {council.votes_to_pass} yes votes of the "
            f"{sitting} members sitting on day 1 and no veto. Veto powers:</p>"
            + table(["permanent member", "veto"], rows))


def brief_section(scenario: Scenario, aid: str, catalogue: cat.Catalogue, public: str) -> str:
    """One actor's role brief (its own printed page)."""
    b = Brief(scenario, aid, catalogue)
    usable, beyond = moves(scenario, aid, catalogue)
    rows = [[str(a.level), f"{esc(a.name)} <small>\u2192 {TARGET_WORDS[a.target]}</small>",
             esc("; ".join(conditions(a)) or "any day"),
             esc("; ".join(consequences(a, scenario)))] for a in usable]
    out_of_reach = ""
    if beyond:
        out_of_reach = ("<p>Beyond your means now (the capability each needs): "
                        + "; ".join(f"{esc(a.name)} ({esc(need)})" for a, need in beyond)
                        + ".</p>")
    traits = "".join(f"<li><strong>{esc(label)}</strong>: {esc(text)}</li>"
                     for label, text in b.traits())
    powers = council_powers(scenario) if b.actor.kind == "institution" else ""
    ladder = "; ".join(f"{k} {rung_name(catalogue, k)}" for k in sorted(catalogue.levels))
    return f"""<section class="page brief" id="brief-{esc(aid)}" data-actor="{esc(aid)}">
<h2>Role brief: {esc(b.actor.name)} ({esc(aid)})</h2>
<p class="role">Your role: <strong>{esc(b.role_line())}</strong>. Keep these pages to yourself.</p>
<h3>The situation (public)</h3>
{public}
<h3>Your aims (private)</h3>
{_list(b.aims())}
<h3>Your red lines (private)</h3>
{_list(b.red_lines())}
<h3>Who you are</h3>
<ul>{traits}</ul>
{powers}
<h3>What winning means for you</h3>
{_list(b.winning())}
<h3>Your moves</h3>
<p>{esc(targets_line(b))} Holding (doing nothing new) is always possible. The rungs of the
escalation ladder: {esc(ladder)}.</p>
{table(MOVE_HEADERS, rows, {0}, {0})}
{out_of_reach}
</section>"""


def outcome_rules(scenario: Scenario, catalogue: cat.Catalogue) -> list[tuple[str, str, str]]:
    """(id, name, the rule in plain words) for every outcome class, in the model's order."""
    o = scenario.spec.outcomes
    days = scenario.spec.horizon_days
    dz, gp = o.deescalated, o.great_power_confrontation
    rule = {
        "de_escalated": f"none of the last three happened, and at the end of the {days} days "
                       f"every pair of states has stayed at rung {dz.max_level} "
                       f"({rung_name(catalogue, dz.max_level)}) or below for at least "
                       f"{dz.sustain_days} days in a row",
        "frozen_crisis": "none of the others: no clash, no war, but no lasting calm at the "
                         "end either",
        "militarized_clash": f"some state reaches rung {o.militarized_clash.min_level} "
                             f"({rung_name(catalogue, o.militarized_clash.min_level)}) or "
                             "above against another, but not war",
        "war": f"some state reaches rung {o.war.min_level} "
               f"({rung_name(catalogue, o.war.min_level)}) against another, or "
               f"{num(o.war.casualties)} deaths in all",
        "great_power_confrontation": (
            f"{scenario.spec.actors[gp.actors[0]].name} and "
            f"{scenario.spec.actors[gp.actors[1]].name} reach rung {gp.min_level} "
            f"({rung_name(catalogue, gp.min_level)}) or above against each other, either way"
            if gp else "cannot happen here: the scenario names no great powers (write 0%)"),
    }
    return [(cid, name, rule[cid]) for cid, name in zip(OUTCOME_IDS, OUTCOMES, strict=True)]


def prediction_sheet(scenario: Scenario, catalogue: cat.Catalogue) -> str:
    """The students' prediction sheet and the CSV format the debrief reads."""
    rows = [[f"<strong>{esc(name)}</strong>", esc(rule), '<span class="blank">%</span>']
            for _, name, rule in outcome_rules(scenario, catalogue)]
    rows.append(["<strong>total</strong>", "", "100%"])
    header = "name," + ",".join(OUTCOME_IDS)
    gp = scenario.spec.outcomes.great_power_confrontation
    example = "Ana,20,35,25,15,5" if gp else "Ana,20,40,25,15,0"
    return f"""<section class="page" id="prediction-sheet">
<h2>Prediction sheet</h2>
<p>Name: <span class="blank wide"></span></p>
<p>How will the crisis end after {scenario.spec.horizon_days} days? The model runs it a
thousand times; write how likely you think each outcome is. Each run counts once, in the most
severe class it reaches (great-power confrontation, then war, then militarized clash); a run
that reaches none of them is de-escalated or a frozen crisis. Your numbers must add up to 100%.
</p>
{table(["outcome", "it happens when", "your probability"], rows, {2})}
<div class="teacher">
<h3>For the teacher: typing the sheets in for <code>escsim debrief --predictions</code></h3>
<p>One CSV file per class or group: the header below, then one row per student, a name and the
five percentages as written on the sheet, summing to 100 (or fractions summing to 1).</p>
<pre>{esc(header)}
{esc(example)}</pre>
</div>
</section>"""


def debrief_worksheet(scenario: Scenario) -> str:
    """Questions in the six phases of Thiagarajan's debriefing model."""
    b = Brief(scenario, scenario.actor_ids[0], cat.load())
    names = b.names(a for a in scenario.actor_ids if scenario.spec.actors[a].kind == "state")
    phases = [
        ("How do you feel?", ["How do you feel about how the crisis went for your country?",
                              "Which moment made you most uneasy, and why?"]),
        ("What happened?", ["How did the crisis end, and at which day did it reach its "
                            "highest rung?",
                            "Which of your decisions mattered most? What did the others do?"]),
        ("What did you learn?", ["What made escalation more likely, and what held it back?",
                                 "Where did the class's path fall among the model's thousand "
                                 "runs: typical or rare?"]),
        ("How does it relate?", [f"How do the moves of {names} in your game compare with "
                                 "what real governments did in this crisis, or in one you "
                                 "know?", "Which other crises does this remind you of?"]),
        ("What if?", ["What if you had made a different move on your most important day? "
                      "What did the continuations say?",
                      "Which parameter of the scenario would you change, and what do you "
                      "expect it to do?"]),
        ("What next?", ["What would you advise your government to do now?",
                        "What does the model leave out that you would add?"]),
    ]
    items = "".join(f"<h3>{k}. {esc(title)}</h3>" + "".join(
        f'<p class="question">{esc(q)}</p><div class="lines"></div>' for q in questions)
        for k, (title, questions) in enumerate(phases, start=1))
    return f"""<section class="page" id="debrief-worksheet">
<h2>Debrief worksheet</h2>
<p>Name: <span class="blank wide"></span></p>
<p class="meta">The six phases of a debriefing after {THIAGARAJAN}</p>
{items}
</section>"""


def info_card(scenario: Scenario) -> str:
    """The scenario's info card in the NetLogo Models Library's sections, or a note."""
    card = scenario.spec.card
    if card is None:
        body = (f"<p>The scenario file {esc(scenario.path.name)} has no info card "
                "(<code>card:</code>); see docs/teaching.md to write one.</p>")
    else:
        parts = []
        for key, title in CARD_SECTIONS:
            value = getattr(card, key)
            text = _list(value, "ol") if isinstance(value, (list, tuple)) else \
                f"<p>{esc(value)}</p>"
            parts.append(f"<h3>{esc(title)}</h3>\n{text}")
        body = "\n".join(parts)
    return f"""<section class="page" id="info-card">
<h2>Info card</h2>
{body}
</section>"""


HANDOUT_CSS = """
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
.page { break-before: page; page-break-before: always; }
.page:first-of-type { break-before: auto; page-break-before: auto; }
.role { font-size: 1.05rem; }
.blank { display: inline-block; min-width: 6rem; border-bottom: 1px solid #555;
         text-align: right; }
.blank.wide { min-width: 20rem; }
.lines { height: 3.2em; border-bottom: 1px dotted #888; margin-bottom: .4rem; }
.question { margin: .4rem 0 0; }
.teacher { border: 1px solid #999; padding: 0 .8rem .5rem; margin-top: 1.5rem; }
@page { margin: 18mm 16mm; }
small { color: #444; }
@media print {
  body { font-size: 10pt; }
  h3 { page-break-after: avoid; break-after: avoid; }
  table { font-size: 8pt; }
}
"""


def render(scenario: Scenario) -> str:
    """The whole handout as one self-contained HTML page."""
    catalogue = cat.load()
    seeds = seedmod.load(Path(scenario.spec.seed_events), catalogue)[0]
    public = situation(scenario, seeds, catalogue)
    briefs = "\n".join(brief_section(scenario, aid, catalogue, public)
                       for aid in scenario.actor_ids)
    contents = "".join(
        f'<li><a href="#{ref}">{esc(title)}</a></li>' for ref, title in [
            ("info-card", "Info card"),
            *((f"brief-{a}", f"Role brief: {scenario.spec.actors[a].name}")
              for a in scenario.actor_ids),
            ("prediction-sheet", "Prediction sheet"), ("debrief-worksheet", "Debrief worksheet")])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(scenario.spec.title)} \u2013 escsim handout</title>
<style>{REPORT_CSS}{HANDOUT_CSS}</style>
</head>
<body>
<header>
<h1>{esc(scenario.spec.title)}</h1>
<p class="meta">Class handout for scenario <code>{esc(scenario.name)}</code> (inputs
sha256 {scenario.sha256[:12]}) \u00b7 escsim {esc(__version__)} \u00b7 each section starts on
a new page: print each role brief for its team only.</p>
<ol>{contents}</ol>
</header>
{info_card(scenario)}
{briefs}
{prediction_sheet(scenario, catalogue)}
{debrief_worksheet(scenario)}
</body>
</html>
"""


# --------------------------------------------------------------------- PDF ---

def find_browser() -> tuple[str | None, str]:
    """A headless Chromium to print with, or None and the reason there is none.

    ``ESCSIM_CHROMIUM`` names one; otherwise the first of :data:`BROWSER_NAMES` on PATH.
    """
    named = os.environ.get("ESCSIM_CHROMIUM")
    if named:
        if os.path.isdir(named) or not os.access(named, os.X_OK):
            return None, f"ESCSIM_CHROMIUM={named} is not an executable file"
        return named, ""
    for name in BROWSER_NAMES:
        if found := shutil.which(name):
            return found, ""
    return None, (f"no headless Chromium found (no {', '.join(BROWSER_NAMES)} on PATH; "
                  "set ESCSIM_CHROMIUM=/path/to/chromium)")


def print_pdf(browser: str, page: Path, pdf: Path, timeout: float = PDF_TIMEOUT) -> str:
    """Print ``page`` to ``pdf`` with a headless Chromium; return '' or why it failed.

    Chromium runs in its own process group with a throwaway profile (a user's
    running browser and its profile are not touched), and the whole group is
    stopped on timeout or interruption. It runs without its sandbox only as
    root, where it refuses to start otherwise.
    """
    with tempfile.TemporaryDirectory(prefix="escsim-chromium-") as profile:
        command = [browser, "--headless", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--no-pdf-header-footer", "--print-to-pdf-no-header",
                   f"--user-data-dir={profile}", f"--print-to-pdf={pdf.absolute()}",
                   page.absolute().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            return f"{browser} did not start: {exc.strerror or exc}"
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"{browser} did not print within {timeout:g} s"
        finally:
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    ok = pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
    if proc.returncode == 0 and ok:
        return ""
    pdf.unlink(missing_ok=True)
    lines = err.decode("utf-8", "replace").strip().splitlines()
    return f"{browser} exited with status {proc.returncode}" + (f": {lines[-1]}" if lines
                                                                 else "")


# ------------------------------------------------------------------ folder ---

def manifest(scenario: Scenario, argv: list[str], pdf: dict) -> dict:
    """The folder's manifest: inputs and their hashes as ``escsim run``'s, versions, command."""
    return {
        "kind": "handout",
        "scenario": str(scenario.path),
        "scenario_sha256": scenario.file_sha256[scenario.path],
        "inputs_sha256": scenario.sha256,
        "files": {str(f): scenario.file_sha256[f] for f in scenario.files},
        "html": "handout.html",
        "pdf": pdf,
        "versions": {"escsim": __version__, "python": platform.python_version()},
        "command": argv,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


@contextlib.contextmanager
def _staged_folder(base: Path):
    """Claim ``base/handout-<UTC time>[-k]`` and yield (final, staging folder)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    with contextlib.ExitStack() as stack:
        for k in itertools.count(1):
            final = base / (f"handout-{stamp}" + (f"-{k}" if k > 1 else ""))
            try:  # staging claims the name with an atomic mkdir: one process wins it
                tmp = stack.enter_context(folders.staging(final))
            except FileExistsError:
                continue
            break
        yield final, tmp


def write(scenario: Scenario, out: Path, pdf: bool | None, argv: list[str]
          ) -> tuple[Path, Path | None, str]:
    """Write the handout folder; return its HTML, its PDF (or None) and why there is none.

    ``pdf`` True requires a PDF (no browser, or a failed print, is an error and
    nothing is kept); None makes one when a browser is found; False never.
    """
    browser, why = find_browser() if pdf is not False else (None, "--no-pdf")
    if pdf and browser is None:
        raise ResourceError(f"--pdf: {why}; nothing was written")
    base = Path(out) / folders.safe_name(scenario.name)
    folders.check_writable(base)
    page = render(scenario)
    with _staged_folder(base) as (final, tmp):
        (tmp / "handout.html").write_text(page, encoding="utf-8")
        made = None
        if browser is not None:
            why = print_pdf(browser, tmp / "handout.html", tmp / "handout.pdf")
            if why and pdf:
                raise ResourceError(f"--pdf: {why}; nothing was written")
            made = None if why else final / "handout.pdf"
        record = {"file": "handout.pdf", "browser": browser} if made else \
            {"file": None, "reason": why}
        (tmp / "manifest.json").write_text(
            json.dumps(manifest(scenario, argv, record), indent=2) + "\n", encoding="utf-8")
    return final / "handout.html", made, why


def main(args) -> int:
    """``escsim handout``: write the handout; print ``handout: PATH`` (and ``pdf: PATH``)."""
    scenario = load_scenario(Path(args.file))
    html_path, pdf_path, why = write(scenario, args.out, args.pdf, list(sys.argv))
    print(f"handout: {html_path}")
    if pdf_path is not None:
        print(f"pdf: {pdf_path}")
    elif args.pdf is None:
        print(f"note: no PDF was made: {why}", file=sys.stderr)
    return 0
