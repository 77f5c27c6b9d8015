"""``escsim play``: a crisis played turn by turn in a plain terminal.

Each turn shows the situation from the player's side, then a numbered menu
of the moves open to the player's actor that day (the model's own
feasibility rules), each with its rung and a one-line consequence hint. The
other actors move by the decision rule, in the same compiled day as every
ensemble run: a game is one run of the model (:mod:`sim.classroom.game`).

Several roles play hot seat, asked in the order of ``--as``: on a terminal
the screen is cleared between roles and each team is asked to take the
keyboard, so a role's private brief and choice stay with its team. Without
a terminal (a pipe, a file, a test), one command is read per line and the
game is saved to ``--save`` at the end of input.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np

from sim.classroom.game import BY_INJECT, Game, load_deck
from sim.classroom.handout import consequences
from sim.errors import InputError, Problem, printable
from sim.inputs.scenario import load_scenario
from sim.model import day as D
from sim.model.story import calendar, day_lines, outcome_lines

HELP = """Commands:
  NUMBER  choose that move from the menu
  ?       this help
  m       show the situation and the menu again
  s       save the game (to --save, or the file it was resumed from)
  u       undo the last choice made today, before the day resolves
  f       let the model finish the game: every actor moves by its rule
  i       list the instructor's injects; i N plays inject N today
  q       quit (saving first when the game has a file)
After every role has chosen, Enter resolves the day (u still undoes)."""

STRENGTH = ((0.34, "weak"), (0.67, "firm"), (1.01, "strong"))
WIDTH, MOVE_WIDTH = 100, 44  # a menu line: number, move, hint
EXIT_INTERRUPTED = 130  # as a shell reports a Ctrl-C, like sim.cli


class Console:
    """Reads commands and writes screens.

    On a terminal: prompts, cleared screens between hot-seat roles. Otherwise:
    one command per line, echoed after its prompt so a transcript reads as a game.
    """

    def __init__(self, stdin=None, stdout=None):
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.tty = self.stdin.isatty()

    def say(self, text: str = ""):
        """Write ``text`` and a newline."""
        print(text, file=self.stdout, flush=True)

    def ask(self, prompt: str) -> str | None:
        """The next command (stripped), or None at the end of input."""
        if self.tty:
            try:
                return input(prompt).strip()
            except EOFError:
                self.say()
                return None
        line = self.stdin.readline()
        if not line:
            return None
        self.say(prompt + line.rstrip("\n"))
        return line.strip()

    def clear(self):
        """Clear the screen and its scroll-back (a terminal only: a transcript keeps all).

        ``ESC[3J`` (xterm's "erase saved lines") empties the scroll-back, so the next
        team cannot scroll up to the last team's brief and choice.
        """
        if self.tty:
            print("\033[H\033[2J\033[3J", end="", file=self.stdout, flush=True)

    def hand_over(self, role: str) -> bool:
        """Ask ``role``'s team to take the keyboard; False at the end of input."""
        if not self.tty:
            return True
        self.clear()
        return self.ask(f"Pass the keyboard to {role}'s team, then press Enter. ") is not None


# ---------------------------------------------------------------------- what a role sees --

def strength(x: float) -> str:
    """A parameter in [0, 1] in words."""
    return next(word for bound, word in STRENGTH if x < bound)


def hint(model, i: int, option: dict) -> str:
    """What a move does, from today's levels and the catalogue's effects."""
    if option["action"] is None:
        return "do nothing today"
    action = model.catalogue[option["action"]]
    target = option["target"]
    said = []
    if action.level and target is not None:
        now = int(model.world.level[0, i, model.actor_index[target]])
        said.append(f"your level against {target} {now} -> {action.level}"
                    if action.level > now else f"keeps your level against {target} at {now}")
    said += consequences(action, model.crisis)  # the same words as the handout's moves
    if not said:
        said.append("cooperative" if action.goldstein > 0 else
                    "hostile words" if action.goldstein < 0 else "neutral")
    return "; ".join(said)


def menu(game: Game, role: str) -> list[dict]:
    """The moves open to ``role`` tomorrow: hold first, then by rung and name."""
    model = game.model
    i = model.actor_index[role]
    options = [o for o in model.agents_by_index[i].options(0) if o["feasible"]]
    name = model.catalogue
    return sorted(options, key=lambda o: (o["action"] is not None, o["rung"],
                                          name[o["action"]].name if o["action"] else "",
                                          o["target"] or ""))


def move_text(model, action: str | None, target: str | None) -> str:
    """A move in words: 'seize a tanker -> VEN', 'hold'."""
    if action is None:
        return "hold (do nothing)"
    return model.catalogue[action].name + (f" -> {target}" if target else "")


def levels_table(model) -> list[str]:
    """Levels between states now, row against column."""
    ids = [a for k, a in enumerate(model.actor_ids) if model.is_state[k]]
    at = [model.actor_index[a] for a in ids]
    level = model.world.level[0]
    out = ["Levels now (row's level against column; 0 calm ... 7 war):",
           "       " + "".join(f"{a:>6}" for a in ids)]
    for a, i in zip(ids, at, strict=True):
        out.append(f"  {a:<5}" + "".join(f"{'.' if i == j else level[i, j]:>6}" for j in at))
    return out


def council_lines(model) -> list[str]:
    """The Council's agenda now."""
    w, day, ids = model.world, model.day, model.actor_ids
    out = []
    if w.meeting_day[0] != D.NEVER and w.meeting_day[0] > day:
        out.append(f"a meeting is requested for day {int(w.meeting_day[0])}")
    if w.session_until[0] != D.NEVER and w.session_until[0] >= day:
        out.append(f"in session until day {int(w.session_until[0])}")
    if w.restraint_until[0] != D.NEVER and w.restraint_until[0] >= day:
        out.append(f"its call for restraint stands until day {int(w.restraint_until[0])}")
    out += [f"a resolution demands restraint from {ids[j]}" for j in np.nonzero(w.resolution[0])[0]]
    return out


def threat_lines(model) -> list[str]:
    """Public threats that still bind."""
    w, ids = model.world, model.actor_ids
    return [f"{ids[i]}'s threat against {ids[j]} binds until day {int(w.threat_until[0, i, j])}"
            for i, j in zip(*np.nonzero(w.threat_until[0] >= model.day), strict=True)]


def brief_lines(game: Game, role: str) -> list[str]:
    """What only ``role``'s team sees: its aims, promises, who presses it, what it reached."""
    model = game.model
    i = model.actor_index[role]
    p = model.agents_by_index[i].parameters(0)
    ids, w = model.actor_ids, model.world
    out = [f"Your brief ({role}, {model.crisis.spec.actors[role].name}; private):"]
    for j, x in p["pressure"].items():
        done = w.achieved[0, i, ids.index(j)]
        out.append(f"  your aim: make {j} change course ({strength(x)} pressure, {x:.2f})"
                   + (" - reached" if done else ""))
    for j, x in p["commitments"].items():
        out.append(f"  you promised to back {j} ({strength(x)} commitment, {x:.2f})")
    for j in range(model.n_actors):
        x = model.params.pressure[model.set_of[0], j, i]
        if x:
            out.append(f"  {ids[j]} presses you to change course ({strength(x)})")
    if p["pressure"] or p["commitments"]:
        out.append(f"  resolve {strength(p['resolve'])}, risk aversion "
                   f"{strength(p['risk_aversion'])}, audience cost of backing down "
                   f"{strength(p['audience_cost'])}")
    return out


# ---------------------------------------------------------------------- the session -------

class Session:
    """One sitting of a game: screens, commands, saving."""

    def __init__(self, game: Game, console: Console, save_path: Path | None):
        self.game = game
        self.console = console
        self.save_path = save_path
        self.hot_seat = len(game.humans) > 1

    # -------------------------------------------------------------- screens ------------

    def opening(self):
        """The scenario, the seed events, the roles and the commands."""
        say, game = self.console.say, self.game
        spec = game.scenario.spec
        model = game.model
        say(printable(spec.title, None))
        say(printable(" ".join(spec.description.split()), None))
        say(f"Scenario {game.scenario.name}, seed {game.seed}, run {game.run}: {game.days} "
            f"days from {spec.start_date.isoformat()}, {game.turn_days} day(s) per turn; "
            f"played by {', '.join(game.humans)}.")
        if game.turn_days > 1:
            say("You move on each turn's first day; on its other days your actor " +
                ("holds." if game.between == "hold" else "moves by the model's rule."))
        if game.day == 0:
            say("Before day 1:")
            for ev in sorted(game.scenario.events, key=lambda e: e.day):
                say(f"  {ev.actor}{' -> ' + ev.target if ev.target else ''}: "
                    f"{model.catalogue[ev.action].name}")
        else:
            say(f"Resumed at the end of day {game.day}.")
        say("Type ? for help.")

    def days_told(self, first: int, last: int):
        """What happened from day ``first`` to ``last`` (public)."""
        model, start = self.game.model, self.game.scenario.spec.start_date
        history = model.history
        for day in range(max(first, 1), last + 1):
            rec = history[day - 1]
            entries = day_lines(model, rec, self.game.news.get(day, []))
            given = [d for d in self.game.decisions if d.day == day and d.by == BY_INJECT]
            for d in given:
                card = next(c for c in self.game.deck if c.id == d.inject)
                entries.insert(0, f"INJECT: {printable(card.headline, None)}")
            self.console.say(f"{calendar(start, day)}day {day}:" + ("" if entries else " quiet"))
            for e in entries:
                self.console.say(f"    {e}")

    def situation(self, role: str):
        """The day ahead from ``role``'s side: recent days, levels, Council, threats, brief."""
        say, game = self.console.say, self.game
        model = game.model
        day = game.day + 1
        turn, turns = (day - 1) // game.turn_days + 1, -(-game.days // game.turn_days)
        say("")
        say(f"=== {calendar(game.scenario.spec.start_date, day)}day {day} of {game.days}, "
            f"turn {turn} of {turns}: {role} to move ===")
        recent = max(game.turn_days, 3)
        if game.day:
            say(f"The last {min(recent, game.day)} day(s):")
            self.days_told(game.day - recent + 1, game.day)
        for line in levels_table(model):
            say(line)
        council = council_lines(model)
        say("Security Council: " + ("; ".join(council) if council else "nothing on its agenda"))
        threats = threat_lines(model)
        say("Threats that bind: " + ("; ".join(threats) if threats else "none"))
        say(f"Casualties so far: {int(model.world.casualties[0])}; escalation index "
            f"{float(model.index[0]):.1f}")
        for line in brief_lines(game, role):
            say(line)

    def show_menu(self, role: str, options: list[dict]):
        """The numbered moves, grouped by rung."""
        model = self.game.model
        i = model.actor_index[role]
        rungs = model.catalogue.levels
        say = self.console.say
        say(f"Your moves for day {self.game.day + 1}:")
        shown = None
        for k, o in enumerate(options, start=1):
            if o["rung"] != shown:
                shown = o["rung"]
                say(f"  rung {shown}: {rungs[shown]}")
            text = move_text(model, o["action"], o["target"])
            lead = f"    {k:>3}  {text:<{MOVE_WIDTH}} "
            if len(text) > MOVE_WIDTH:  # the hint goes under a long name
                say(f"    {k:>3}  {text}")
                lead = " " * (10 + MOVE_WIDTH)
            say("\n".join(textwrap.wrap(hint(model, i, o), WIDTH, initial_indent=lead,
                                        subsequent_indent=" " * len(lead))))

    # -------------------------------------------------------------- commands -----------

    def save(self) -> bool:
        """Save to the game's file, if it has one; say what happened."""
        if self.save_path is None:
            self.console.say("not saved: start the game with --save GAME_FILE to save it")
            return False
        self.game.save(self.save_path)
        self.console.say(f"saved: {self.save_path} (end of day {self.game.day}"
                         + ("; today's choices so far are not saved)" if not
                            self.game.finished else ")"))
        return True

    def injects(self, command: str, day: int, pending: list[str], choices: dict):
        """``i``: list the deck; ``i N``: play card N on ``day``."""
        say, game = self.console.say, self.game
        if not game.deck:
            say("no inject deck: start the game with --injects FILE")
            return
        played = {d.inject: d.day for d in game.decisions if d.by == BY_INJECT}
        parts = command.split()
        if len(parts) == 1:
            for k, card in enumerate(game.deck, start=1):
                when = (f"played on day {played[card.id]}" if card.id in played else
                        f"planned for day {card.day}" if card.day else "in hand")
                say(f"  {k}. [{card.id}] {printable(card.headline, None)} "
                    f"({move_text(game.model, card.action, card.target)} by {card.actor}; "
                    f"{when})")
            return
        try:
            card = game.deck[int(parts[1]) - 1]
            if int(parts[1]) < 1:
                raise IndexError
        except (ValueError, IndexError):
            say(f"no inject '{parts[1]}': i lists the {len(game.deck)} cards")
            return
        if card.id in played:
            say(f"inject {card.id} was played on day {played[card.id]}")
        elif card.actor in choices or game.given(day, card.actor) or game.scheduled(day,
                                                                                    card.actor):
            say(f"{card.actor} already has a move on day {day}" +
                (" (u undoes it)" if card.actor in choices else ""))
        else:
            game.play_inject(card, day)
            if card.actor in pending:
                pending.remove(card.actor)
            say(f"INJECT for day {day}: {printable(card.headline, None)}")

    def turn(self) -> str | None:
        """Ask every role for the next day's move; the day then resolves.

        Returns "eof", "quit" or "finish" when a command ends the turn early.
        """
        game, console = self.game, self.console
        day = game.day + 1
        pending = game.asked(day)
        for card in game.due_injects(day):
            if card.actor in pending:
                pending.remove(card.actor)
        choices: dict[str, tuple[str | None, str | None]] = {}
        if not pending:  # every player's move today is given (or it is not a turn's start)
            for h in game.humans:
                if game.turn_starts(day):
                    console.say(f"day {day}: {h}'s move is given by the scenario or an inject")
            return self._resolve(choices)
        fresh = True
        while True:
            role = next((r for r in pending if r not in choices), None)
            if role is not None and fresh:
                if self.hot_seat and not console.hand_over(role):
                    return "eof"
                self.situation(role)
                options = menu(game, role)
                self.show_menu(role, options)
                fresh = False
            prompt = f"{role} day {day}> " if role else f"day {day}: Enter resolves the day> "
            command = console.ask(prompt)
            if command is None:
                return "eof"
            word = command.lower()
            if role is None and word in ("", "y", "yes"):
                return self._resolve(choices)
            if not word and role is not None:
                continue
            if word.isdigit() and role is not None:
                k = int(word)
                if not 1 <= k <= len(options):
                    console.say(f"choose 1 to {len(options)}")
                    continue
                o = options[k - 1]
                choices[role] = (o["action"], o["target"])
                if self.hot_seat:
                    console.clear()
                    console.say(f"{role} has chosen (hidden from the other roles).")
                else:
                    console.say(f"{role} chose: {move_text(game.model, o['action'], o['target'])}")
                fresh = True
            elif word.isdigit():
                console.say("every role has chosen: Enter resolves the day, u undoes")
            elif word in ("?", "h", "help"):
                console.say(HELP)
            elif word == "m":
                fresh = True
            elif word == "s":
                self.save()
            elif word == "q":
                self.save()
                return "quit"
            elif word == "u":
                if not choices:
                    console.say("nothing to undo today (resolved days are final)")
                    continue
                undone = list(choices)[-1]
                del choices[undone]
                console.say(f"undone: {undone} chooses again")
                fresh = True
            elif word == "f":  # today's choices stand; the rule plays everyone after
                console.say(f"The model plays every actor from day {day} on" +
                            (" (today's choices stand)." if choices else "."))
                self.game.advance(choices)
                return "finish"
            elif word.startswith("i"):
                self.injects(word, day, pending, choices)
                fresh = fresh or (role is not None and role not in pending)
            else:
                console.say(f"unknown command '{printable(command, 40)}'; ? lists the commands")

    def _resolve(self, choices: dict) -> None:
        """The day resolves, then the turn's other days (told on the next screen)."""
        self.game.advance(choices)
        self.game.rest_of_turn()

    def ending(self):
        """The last days and the outcome of the game, as ``escsim story`` closes a run."""
        game = self.game
        model = game.model
        say = self.console.say
        say("")
        say("The last days:")
        self.days_told(game.day - max(game.turn_days, 3) + 1, game.day)
        say(f"=== The crisis after {self.game.days} days ===")
        for line in outcome_lines(model, model.summary()):
            say(line)
        if self.save_path is not None:
            say(f"Debrief it: escsim debrief {self.save_path}")

    def play(self) -> int:
        """Play until the horizon, a quit or the end of input."""
        game = self.game
        self.opening()
        while not game.finished:
            stop = self.turn()
            if stop == "eof":
                self.console.say("end of input")
                self.save()
                return 0
            if stop == "quit":
                return 0
            if stop == "finish":
                game.finish()
        self.ending()
        self.save()
        return 0


# ---------------------------------------------------------------------- command -----------

def _problem(option: str, message: str) -> Problem:
    return Problem(Path(option), None, "", message)


def _open_game(args) -> tuple[Game, Path | None]:
    """The game to play and where it saves, from the command's options."""
    if args.resume is not None:
        given = [f"--{name.replace('_', '-')}" for name in
                 ("seed", "run", "days", "turn_days", "between", "injects")
                 if getattr(args, name) is not None]
        given += ["--as"] if args.humans else []
        given += ["SCENARIO"] if args.file is not None else []
        if given:
            raise InputError([_problem("--resume", f"continues a saved game with its own "
                                       f"settings; drop {', '.join(given)}")])
        game = Game.load(args.resume)
        return game, args.save or args.resume
    problems = []
    if args.file is None:
        problems.append(_problem("SCENARIO", "name a scenario to play (or --resume GAME_FILE)"))
    if not args.humans:
        problems.append(_problem("--as", "name the actor you play, e.g. --as VEN"))
    if args.save is not None and args.save.exists():
        problems.append(_problem("--save", f"{args.save} exists; continue it with --resume "
                                 f"{args.save}, or choose another file"))
    if args.save is not None and not args.save.parent.is_dir():
        problems.append(_problem("--save", f"no folder {args.save.parent}"))
    if problems:
        raise InputError(problems)
    scenario = load_scenario(args.file)
    deck = load_deck(args.injects, scenario) if args.injects is not None else ()
    game = Game.new(scenario, args.humans, seed=args.seed, run=args.run or 0, days=args.days,
                    turn_days=args.turn_days or 1, between=args.between or "model", deck=deck)
    return game, args.save


def main(args, console: Console | None = None) -> int:
    """``escsim play``: new or resumed; Ctrl-C saves the game (when it has a file) and stops."""
    game, save_path = _open_game(args)
    session = Session(game, console or Console(), save_path)
    if game.finished:
        session.opening()
        session.ending()
        return 0
    try:
        return session.play()
    except KeyboardInterrupt:  # a class's game is never lost to a stray Ctrl-C
        session.console.say("\ninterrupted")
        session.save()
        return EXIT_INTERRUPTED
