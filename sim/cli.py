"""The ``escsim`` command line: validate, run, compare, plot, story, backtest, play...

Input problems are reported one per line as ``FILE:LINE: field: message``,
with exit status 2 and no traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from sim.errors import InputError, Problem, ResourceError, printable
from sim.limits import DEFAULT_KEEP, MAX_HORIZON_DAYS, MAX_RUNS, MAX_WORKERS

SCHEMES = ("goldstein", "rivera", "mid", "ladder")  # sim.inputs.catalogue.SCHEMES (tested equal)
DEFAULT_POINTS, MAX_POINTS = 64, 10_000  # sim.results.calibrate's (tested equal)

EXIT_INPUT = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports a Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143, as a shell reports SIGTERM


class Terminated(BaseException):
    """SIGTERM arrived: stop like Ctrl-C (a BaseException, so no handler swallows it)."""


def _whole(low: int, high: int | None = None):
    """An argparse type: a whole number in [low, high)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if value < low or (high is not None and value >= high):
            bound = f"between {low} and {high - 1:,}" if high else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value
    return parse


_positive = _whole(1)
_seed = _whole(0, 2**63)  # also a run index
# the same limits as the scenario fields the flags override (horizon_days, montecarlo.runs)
_days = _whole(1, MAX_HORIZON_DAYS + 1)
_runs = _whole(1, MAX_RUNS + 1)
_kept = _whole(0, MAX_RUNS + 1)
_workers = _whole(1, MAX_WORKERS + 1)
_points = _whole(1, MAX_POINTS + 1)


def _scenario(text: str) -> Path:
    """A scenario argument: a file, or a shipped scenario's name (``caribbean-2025``)."""
    from sim.inputs.library import resolve
    return resolve(text)


def _half_width(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5, got {text}")
    return value


def _ensemble_options(p, whose: str = "the scenario's"):
    """Options shared by ``run`` and ``compare``: horizon, seed, output and where to run."""
    p.add_argument("--days", type=_days,
                   help=f"horizon in days, at most {MAX_HORIZON_DAYS:,} (default: {whose})")
    p.add_argument("--seed", type=_seed, help=f"master seed (default: {whose})")
    p.add_argument("--out", type=Path, default=Path("outputs"),
                   help="parent folder for results (default: outputs)")
    p.add_argument("--workers", type=_workers,
                   help=f"worker processes, at most {MAX_WORKERS} (default: all cores; 1 "
                        "runs in this process)")
    p.add_argument("--chunk-size", type=_positive, metavar="N",
                   help="runs per chunk of work (default: about four chunks per worker, "
                        "100 to 10,000 runs)")
    p.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="local processes (default) or a Dask cluster")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="use an existing Dask scheduler (implies --backend dask); refused "
                        "if it does not answer within 10 s")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (its help is the CLI reference)."""
    parser = argparse.ArgumentParser(
        prog="escsim",
        description="Agent-based escalation scenario simulator: Monte Carlo paths of a crisis "
                    "seeded from coded news events.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario files and report every problem",
                       description="Check scenario files (and their seed events); print one "
                                   "line per problem; exit 2 if any file has a problem.")
    p.add_argument("files", nargs="+", metavar="FILE", type=_scenario)

    p = sub.add_parser("run", help="run a Monte Carlo ensemble and write a results folder",
                       description="Simulate many runs of a scenario and write "
                                   "OUT/<scenario>/<id>/ with report.html, charts/ (PNG and "
                                   "SVG), summary.json, runs.csv, trajectories.csv, "
                                   "manifest.json and the counts charts are drawn from. "
                                   "Results do not depend on --workers, --chunk-size or "
                                   "--backend.")
    p.add_argument("file", metavar="FILE", type=_scenario)
    p.add_argument("--runs", type=_runs,
                   help=f"number of runs, at most {MAX_RUNS:,} (default: the scenario's); "
                        "with --until-ci, the size of each batch")
    _ensemble_options(p)
    p.add_argument("--keep-trajectories", type=_kept, default=DEFAULT_KEEP, metavar="N",
                   help=f"keep the day-by-day index of runs 0..N-1 (default: {DEFAULT_KEEP})")
    p.add_argument("--until-ci", type=_half_width, metavar="H",
                   help="add batches of --runs runs until every outcome's 95%% interval "
                        "is narrower than +/-H (e.g. 0.005)")
    p.add_argument("--max-runs", type=_runs, default=10_000_000, metavar="N",
                   help="cap on runs for --until-ci (default: 10,000,000)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="give a scenario parameter another value in every run, e.g. "
                        "actors.USA.resolve=0.8 (repeatable; paths as in the scenario file)")
    p.add_argument("--sets", type=Path, metavar="TABLE.csv",
                   help="parameter sets: a CSV with a header of parameter paths and one row "
                        "per set; --runs runs of each set, on common random numbers; "
                        "writes sets.csv")
    p.add_argument("--save-day", type=_whole(0, MAX_HORIZON_DAYS), metavar="D",
                   help="save every run's state at the end of day D (0 to the horizon - 1) "
                        "into the results folder")
    p.add_argument("--from", dest="from_state", type=Path, metavar="STATE",
                   help="continue run K (--run) of a state saved by --save-day: --runs "
                        "continuations; continuation 0 is run K itself")
    p.add_argument("--run", type=_seed, metavar="K", help="with --from: the run to continue")
    p.add_argument("--force", action="append", default=[], metavar="DAY:ACTOR:ACTION[:TARGET]",
                   help="impose a move in every run, e.g. 11:VEN:strike_military_targets:USA "
                        "(ACTION 'hold': do nothing; repeatable)")

    p = sub.add_parser("compare", help="run scenarios on common random numbers and compare",
                       description="Run every scenario with the same seed and run indices "
                                   "(common random numbers) and write OUT/compare/<id>/ with "
                                   "compare.html, comparison.json (each outcome's "
                                   "probability, the difference from the first scenario "
                                   "with its 95%% interval, a robustness table over scoring "
                                   "schemes), comparison charts and one results folder per "
                                   "scenario.")
    p.add_argument("files", nargs="+", metavar="FILE", type=_scenario,
                   help="scenario files; the first is the baseline of the differences")
    p.add_argument("--runs", type=_runs,
                   help=f"runs per scenario, at most {MAX_RUNS:,} (default: the first "
                        "scenario's)")
    _ensemble_options(p, whose="the first scenario's")

    p = sub.add_parser("plot", help="redraw the charts and report of a results folder",
                       description="Redraw charts and report of a folder written by "
                                   "`escsim run` or `escsim compare`, without re-running. "
                                   "With --scoring, the escalation index is scored by "
                                   "another scheme: the charts go to charts-SCHEME/ and "
                                   "report-SCHEME.html (compare-SCHEME.html) beside the "
                                   "originals.")
    p.add_argument("folder", metavar="RESULTS_DIR", type=Path)
    p.add_argument("--scoring", choices=SCHEMES,
                   help="goldstein (negated Goldstein weight), rivera (the 0/-2/4/12/28/60 "
                        "severity classes), mid (MID hostility level) or ladder (Kahn "
                        "rung); default: the run's own")

    p = sub.add_parser("story", help="tell one run day by day",
                       description="Re-simulate run K and print its day-by-day narrative; it "
                                   "is run K of `escsim run` with the same seed.")
    p.add_argument("file", metavar="FILE", type=_scenario)
    p.add_argument("--run", type=_seed, required=True, metavar="K",
                   help="run index (0-based, as in runs.csv)")
    p.add_argument("--seed", type=_seed, help="master seed (default: the scenario's)")
    p.add_argument("--days", type=_days,
                   help=f"horizon in days, at most {MAX_HORIZON_DAYS:,} (default: the "
                        "scenario's)")
    p.add_argument("--why", action="store_true",
                   help="after each move an actor chose, the terms of its choice that drove "
                        "it (e.g. 'coercion +0.55') and its probability")

    p = sub.add_parser("backtest", help="score the model on coded historical crises",
                       description="Run every case file (a scenario with an observed: "
                                   "block) of DIR and write OUT/backtest/<id>/ with "
                                   "report.html, cases.csv, scores.json (Brier and log "
                                   "scores with bootstrap intervals, against a uniform guess "
                                   "and ICB base rates), charts/ and manifest.json.")
    _history_options(p, "runs per case (with --cv: per case and design point)")
    p.add_argument("--cv", action="store_true",
                   help="leave-one-out cross-validation: simulate every case over a design of "
                        "--points parameter sets and score each case at the point fitted on "
                        "the others (out of sample)")
    p.add_argument("--points", type=_points,
                   help=f"with --cv: design points, 1 to {MAX_POINTS:,} (default: "
                        f"{DEFAULT_POINTS})")

    p = sub.add_parser("calibrate", help="fit the role presets' decision parameters on history",
                       description="Simulate every case file of DIR over a space-filling "
                                   "design of the presets' free decision parameters (common "
                                   "random numbers), pick the point with the best total log "
                                   "score of the observed classes and write "
                                   "OUT/calibrate/<id>/ with design.csv, table.csv, fit.json, "
                                   "charts/, report.html and manifest.json.")
    _history_options(p, "runs per case and design point", default_runs=200)
    p.add_argument("--points", type=_points, default=DEFAULT_POINTS,
                   help=f"design points, 1 to {MAX_POINTS:,} (default: {DEFAULT_POINTS}); "
                        "point 0 is the values assumed before any fit")

    _classroom_parsers(sub)
    _experiment_parsers(sub)
    _app_parser(sub)

    sub.add_parser("actions", help="list the action catalogue",
                   description="List every action with its CAMEO code, PLOVER type, "
                               "Goldstein weight, ladder level and who may take it.")
    return parser


def _classroom_parsers(sub):
    """The classroom kit: shipped scenarios, handouts, a game in the terminal, its debrief."""
    p = sub.add_parser("scenarios", help="list the scenarios shipped with escsim",
                       description="List the shipped scenarios (name, title, what each is); "
                                   "any command taking a scenario FILE also takes a shipped "
                                   "scenario's name, e.g. `escsim run caribbean-2025`.")
    p.add_argument("--all", action="store_true", help="also list the coded historical cases")

    p = sub.add_parser("handout", help="write printable role briefs and worksheets for a class",
                       description="Write OUT/<scenario>/handout-<id>/ with handout.html (one "
                                   "role brief per actor, a prediction sheet, a debrief "
                                   "worksheet and the scenario's info card, with a print "
                                   "stylesheet), handout.pdf when a headless Chromium is "
                                   "found, and manifest.json.")
    p.add_argument("file", metavar="SCENARIO", type=_scenario)
    p.add_argument("--out", type=Path, default=Path("outputs"),
                   help="parent folder for the handout (default: outputs)")
    pdf = p.add_mutually_exclusive_group()
    pdf.add_argument("--pdf", action="store_true", default=None,
                     help="also print to PDF; an error if no headless Chromium is found "
                          "(default: a PDF when one is found)")
    pdf.add_argument("--no-pdf", dest="pdf", action="store_false", help="HTML only")

    p = sub.add_parser("play", help="play a crisis turn by turn as one or more actors",
                       description="A turn-based game in the terminal: each turn shows the "
                                   "situation from your side and a numbered menu of today's "
                                   "feasible moves; the other actors move by the model's "
                                   "rule. The game is run K (--run) of `escsim run` with the "
                                   "same seed until a player's move differs. Commands at the "
                                   "prompt: ? help, s save, q quit, u undo, f let the model "
                                   "finish, i injects. Without a terminal, reads one command "
                                   "per line and saves to --save at the end of input.")
    p.add_argument("file", metavar="SCENARIO", type=_scenario, nargs="?")
    p.add_argument("--as", dest="humans", action="append", default=[], metavar="ACTOR",
                   help="an actor played by a human (repeatable: hot-seat play, asked in "
                        "this order)")
    p.add_argument("--seed", type=_seed, help="master seed (default: the scenario's)")
    p.add_argument("--run", type=_seed, metavar="K",
                   help="which run of the ensemble the game is (default: 0)")
    p.add_argument("--days", type=_days,
                   help=f"horizon in days, at most {MAX_HORIZON_DAYS:,} (default: the "
                        "scenario's)")
    p.add_argument("--turn-days", type=_days, metavar="N",
                   help="days per turn: players move on a turn's first day (default: 1)")
    p.add_argument("--between", choices=("model", "hold"),
                   help="what a player's actor does on a turn's other days: moved by the "
                        "model's rule (default) or holds")
    p.add_argument("--injects", type=Path, metavar="FILE",
                   help="the instructor's deck of injects (YAML), played on their day or "
                        "from the prompt")
    p.add_argument("--save", type=Path, metavar="GAME_FILE",
                   help="where `s` and the end of scripted input save the game")
    p.add_argument("--resume", type=Path, metavar="GAME_FILE",
                   help="continue a saved game (its scenario, seed, roles and moves)")

    p = sub.add_parser("debrief", help="a debrief page: the class's game against the model's "
                                       "ensemble and continuations",
                       description="Write OUT/debrief/<id>/ with debrief.html: the class's "
                                   "path over the fan chart of --runs runs from the same "
                                   "start, --runs continuations from every human decision "
                                   "with the class's move and the model's likeliest "
                                   "alternatives, prediction sheets scored, and debrief "
                                   "questions; the state file of each decision day and the "
                                   "`escsim run --from ... --force ...` command behind every "
                                   "number.")
    p.add_argument("games", nargs="+", metavar="GAME_FILE", type=Path)
    p.add_argument("--predictions", action="append", default=[], type=Path, metavar="CSV",
                   help="students' prediction sheet: a name column, then one probability "
                        "per outcome class (repeatable)")
    p.add_argument("--runs", type=_runs, default=1000,
                   help="runs of the ensemble and of each set of continuations "
                        "(default: 1000)")
    p.add_argument("--out", type=Path, default=Path("outputs"),
                   help="parent folder for the debrief (default: outputs)")
    p.add_argument("--workers", type=_workers,
                   help=f"worker processes, at most {MAX_WORKERS} (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _app_parser(sub):
    """``escsim app``: the interactive page (explore, play, class mode)."""
    p = sub.add_parser("app", help="serve the interactive page: explore, play, class mode",
                       description="Serve the escsim page (a Solara app, every asset local, "
                                   "no internet needed) and print `app: URL`. Binds to this "
                                   "computer only unless --lan.")
    p.add_argument("file", metavar="SCENARIO", type=_scenario, nargs="?",
                   help="the scenario the page opens with (default: the baseline)")
    p.add_argument("--port", type=_whole(0, 65536), default=8765,
                   help="TCP port (default: 8765; 0 picks a free one)")
    p.add_argument("--lan", action="store_true",
                   help="serve the room's network too; students join with the code shown on "
                        "the instructor's screen")


def _experiment_parsers(sub):
    """Sweeps, global sensitivity analysis and scenario discovery over parameter sets."""
    def run_options(p):
        p.add_argument("file", metavar="SCENARIO", type=_scenario, nargs="?")
        p.add_argument("--runs", type=_runs, default=200,
                       help="runs per parameter set (default: 200)")
        _ensemble_options(p)
        p.add_argument("--resume", type=Path, metavar="DIR",
                       help="complete an interrupted experiment's folder (its own settings)")

    p = sub.add_parser("sweep", help="outcome probabilities over a grid of parameter values",
                       description="Run every point of a full factorial grid of parameter "
                                   "values (common random numbers) and write "
                                   "OUT/sweep/<id>/ with sweep.csv, charts, report.html and "
                                   "manifest.json.")
    run_options(p)
    p.add_argument("--vary", action="append", default=[], metavar="PATH=LO:HI:N",
                   help="a parameter and its grid, e.g. actors.RUS.commitments.VEN=0:1:11 "
                        "(repeatable)")

    p = sub.add_parser("sensitivity", help="Sobol' or Morris global sensitivity analysis",
                       description="Sample parameter sets with SALib, run them (common random "
                                   "numbers) and write OUT/sensitivity/<id>/ with the indices "
                                   "per outcome, tornado charts, report.html and "
                                   "manifest.json.")
    run_options(p)
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol",
                   help="sobol (first-order and total indices) or morris (mu* and sigma)")
    p.add_argument("--params", action="append", default=[], metavar="PATH=LO:HI",
                   help="a parameter and its range (repeatable)")
    p.add_argument("--n", type=_positive, default=256,
                   help="base sample size (Sobol': N, Morris: trajectories; default: 256)")

    p = sub.add_parser("discover", help="scenario discovery: where is an outcome likely (PRIM)",
                       description="Run a Latin hypercube of parameter sets and find with "
                                   "PRIM (EMA Workbench) the box of parameter values where "
                                   "the outcome's probability exceeds --above; write "
                                   "OUT/discover/<id>/ with the peeling trajectory, the box, "
                                   "report.html and manifest.json.")
    run_options(p)
    p.add_argument("--outcome", metavar="ID",
                   help="deescalated, frozen, militarized_clash, war or "
                        "great_power_confrontation")
    p.add_argument("--above", type=float, metavar="P",
                   help="a set is of interest when the outcome's probability exceeds P")
    p.add_argument("--params", action="append", default=[], metavar="PATH=LO:HI",
                   help="a parameter and its range (repeatable)")
    p.add_argument("--n", type=_positive, default=500,
                   help="parameter sets in the Latin hypercube (default: 500)")


def cmd_sweep(args) -> int:
    """A full factorial sweep."""
    from sim.experiments import sweep
    return sweep.main(args)


def cmd_sensitivity(args) -> int:
    """A global sensitivity analysis."""
    from sim.experiments import sensitivity
    return sensitivity.main(args)


def cmd_discover(args) -> int:
    """Scenario discovery with PRIM."""
    from sim.experiments import discover
    return discover.main(args)


def cmd_app(args) -> int:
    """Serve the page until Ctrl-C."""
    from sim.app import server
    return server.main(args)


def cmd_scenarios(args) -> int:
    """List the shipped scenarios."""
    from sim.inputs import library
    return library.main(args)


def cmd_handout(args) -> int:
    """Write a class's handouts for a scenario."""
    from sim.classroom import handout
    return handout.main(args)


def cmd_play(args) -> int:
    """Play a game in the terminal."""
    from sim.classroom import play
    return play.main(args)


def cmd_debrief(args) -> int:
    """Write the debrief page of one or more games."""
    from sim.classroom import debrief
    return debrief.main(args)


def cmd_validate(args) -> int:
    """Validate every file, reporting all problems; exit 2 if any."""
    from sim.inputs.scenario import load_scenario
    status = 0
    for path in args.files:
        try:
            scenario = load_scenario(path)
        except InputError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            if args.debug:
                traceback.print_exc()
            status = EXIT_INPUT
        else:
            print(f"{path}: ok ({len(scenario.spec.actors)} actors, "
                  f"{len(scenario.events)} seed events)")
            if scenario.spec.card is None:
                print(f"note: {path} has no info card (card:), see docs/teaching.md")
            _chart_notes([a.kind for a in scenario.spec.actors.values()])
    return status


def _chart_notes(kinds: list[str]):
    """Say which small-multiples charts will show only some of the pairs or actors."""
    from sim.limits import MAX_PANELS  # the charts' limit, without importing matplotlib
    states = kinds.count("state")
    if states * (states - 1) > MAX_PANELS:
        print(f"note: {states * (states - 1):,} state pairs; the per-pair chart shows the "
              f"{MAX_PANELS} with the highest peak levels")
    if len(kinds) > MAX_PANELS:
        print(f"note: {len(kinds)} actors; the action-mix chart shows the {MAX_PANELS} that "
              "used coercion or force most")


def state_bytes(day: int, n_actors: int) -> int:
    """Upper bound of one run's bytes in a state file saved on ``day``, before compression.

    The world (measured 569 B with 4 actors, 803 with 5) and every day's index
    under 4 schemes and levels; compression makes files about 2 to 3 times smaller.
    """
    return 200 + 26 * n_actors ** 2 + (day + 1) * (33 + n_actors ** 2)


def _prepare(args, runs: int, total: int, days: int, scenario, folder: Path,
             folders: int = 1, keep: int = 0) -> int:
    """Refuse, before any work, what cannot succeed; return the worker count to use.

    :func:`sim.results.folders.prepare`'s checks, and room for a state file.
    """
    from sim.results.folders import prepare
    workers, chunk = prepare(args.scheduler, args.workers, args.chunk_size, runs, total, days,
                             scenario, args.out, folder, keep=keep, folders=folders)
    if getattr(args, "save_day", None) is not None:
        _check_state_room(args, total, days, scenario, keep, chunk, workers)
    return workers


def _check_state_room(args, runs: int, days: int, scenario, keep: int, chunk: int,
                      workers: int):
    """Refuse a state file that would not fit on the disk beside the rest of the results."""
    import shutil

    from sim.ensemble.montecarlo import estimate
    n = len(scenario.spec.actors)
    _, results = estimate(runs, days, n, keep=keep, chunk=chunk, workers=workers)
    need = runs * state_bytes(args.save_day, n)
    probe = Path(args.out).absolute()
    while not probe.exists():
        probe = probe.parent
    room = shutil.disk_usage(probe).free
    if results + need > 0.9 * room:
        raise ResourceError(f"the state of {runs:,} runs on day {args.save_day} would take "
                            f"up to {need / 2**20:,.0f} MiB beside {results / 2**20:,.0f} "
                            f"MiB of results, but {probe} has only {room / 2**20:,.0f} MiB "
                            "free; save fewer runs or an earlier day")


@contextlib.contextmanager
def _working(args, runs: int, workers: int):
    """The backend and progress display of a run; on any interruption workers stop at once."""
    from sim.ensemble.backends import make_backend
    from sim.ensemble.progress import Progress
    backend = make_backend(args.backend, workers, args.scheduler)
    progress = Progress(runs, quiet=args.quiet)
    try:
        yield backend, progress
    except BaseException:
        progress.close()
        backend.close(abort=True)
        raise
    progress.close()
    backend.close()


def _option_conflicts(args) -> list[Problem]:
    """Options of ``escsim run`` that cannot go together, one problem each."""
    pairs = [("until_ci", "sets", "parameter sets run a fixed number of runs each"),
             ("until_ci", "from_state", "continuations run a fixed number of runs"),
             ("sets", "from_state", "a saved run continues with one parameter set "
              "(use --set)"),
             ("save_day", "sets", "a saved state does not record the parameter sets"),
             ("save_day", "from_state", "save the uninterrupted run instead")]
    problems = [Problem(Path(f"--{a.replace('_', '-')}"), None, "", f"cannot be combined with "
                        f"--{'from' if b == 'from_state' else b.replace('_', '-')}: {why}")
                for a, b, why in pairs if getattr(args, a) is not None
                and getattr(args, b) is not None]
    if args.run is not None and args.from_state is None:
        problems.append(Problem(Path("--run"), None, "", "needs --from STATE (the run of a "
                                "saved state to continue)"))
    if args.from_state is not None and args.run is None:
        problems.append(Problem(Path("--from"), None, "", "needs --run K (which saved run "
                                "to continue)"))
    return problems


def _collecting(problems: list[Problem], work):
    """``work()``, or None with its input problems added to ``problems``."""
    try:
        return work()
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _load_origin(path: Path, scenario, run: int):
    """Saved run ``run`` of the state file ``path``, checked against ``scenario``'s actors."""
    from sim.model import state
    if not path.is_file():
        why = "no such file" if not path.exists() else "not a file"
        raise InputError([Problem(path, None, "", f"{why} (--from needs a state file "
                                  "written by --save-day)")])
    saved = state.load(path, scenario, runs=[run])
    return saved.select([saved.position(run)])


def _parameters(args, scenario, runs: int):
    """The parameter sets of ``--set`` and ``--sets`` (None without either) and the overrides."""
    from sim.model.params import ParameterSets
    if not args.set and args.sets is None:
        return None, {}
    one = ParameterSets.single(scenario, args.set) if args.set else None
    overrides = {k: float(v[0]) for k, v in one.table.items()} if one else {}
    if args.sets is None:
        return one, overrides
    table = ParameterSets.from_csv(scenario, args.sets)
    if table.n_sets * runs > MAX_RUNS:
        raise InputError([Problem(args.sets, None, "", f"{table.n_sets:,} sets x {runs:,} "
                                  f"runs is more than {MAX_RUNS:,} runs in one ensemble")])
    if one is None:
        return table, overrides
    both = sorted(set(one.table) & set(table.table))
    if both:
        raise InputError([Problem(Path("--set"), None, name, f"is also a column of "
                                  f"{args.sets}; give it in one place") for name in both])
    # --set values hold in every set of the table
    merged = {**{k: v.tolist() for k, v in table.table.items()},
              **{k: [float(v[0])] * table.n_sets for k, v in one.table.items()}}
    return ParameterSets(scenario, merged, source=str(args.sets)), overrides


def _run_inputs(args, scenario, runs: int, days: int):
    """The saved run, parameter sets, ``--set`` overrides and forced moves of ``escsim run``.

    Every problem of every option is reported together, one line each.
    """
    from sim.inputs.forced import parse_forced
    problems = _option_conflicts(args)
    if problems:
        raise InputError(problems)
    origin = None
    if args.from_state is not None:
        origin = _collecting(problems, lambda: _load_origin(args.from_state, scenario, args.run))
        if origin is not None and days <= origin.day:
            where = (Path("--days"), None, "") if args.days else (
                *scenario.where.get(("horizon_days",), (scenario.path, None)), "horizon_days")
            problems.append(Problem(*where, f"{days} days is not after the saved state's day "
                                    f"{origin.day}; nothing would be left to simulate"))
    if args.save_day is not None and args.save_day >= days:
        problems.append(Problem(Path("--save-day"), None, "", f"must be a day from 0 to "
                                f"{days - 1} (the horizon is {days} days), got {args.save_day}"))
    parameters, overrides = _collecting(problems, lambda: _parameters(args, scenario, runs)
                                        ) or (None, {})
    forced = _collecting(problems, lambda: parse_forced(
        args.force, scenario, days, after=origin.day if origin is not None else 0))
    if problems:
        raise InputError(problems)
    return origin, parameters, overrides, forced or None


def cmd_run(args) -> int:
    """Run the ensemble, write the results folder, print the headline table."""
    from sim.inputs.scenario import load_scenario
    from sim.results import folders as res
    from sim.results import headline
    scenario = load_scenario(args.file)
    runs = args.runs or scenario.spec.montecarlo.runs
    days = args.days or scenario.spec.horizon_days
    origin, parameters, overrides, forced = _run_inputs(args, scenario, runs, days)
    seed = args.seed if args.seed is not None or origin is None else origin.seed
    sets = parameters.n_sets if parameters is not None and parameters.n_sets > 1 else 1
    total = args.max_runs if args.until_ci else runs * sets
    batch = runs * sets
    workers = _prepare(args, batch, total, days, scenario,
                       args.out / res.safe_name(scenario.name), keep=args.keep_trajectories)
    given = res.Given(overrides, args.sets, args.from_state)
    with _working(args, batch, workers) as (backend, progress):
        folder, ensemble = res.run_to_folder(
            scenario, args.out, argv=["escsim", *sys.argv[1:]], runs=runs, seed=seed,
            days=days, backend=backend, chunk_size=args.chunk_size,
            keep=args.keep_trajectories, progress=progress, until_ci=args.until_ci,
            max_runs=args.max_runs if args.until_ci else None, parameters=parameters,
            origin=origin, forced=forced, save_day=args.save_day, given=given)
    summary = res.summary(ensemble)
    print(f"{printable(scenario.name, None)}: {ensemble.n_runs:,} runs x {ensemble.days} days, "
          f"seed {ensemble.seed}")
    if sets > 1:
        print(f"  {sets:,} parameter sets x {runs:,} runs; each set's shares: sets.csv")
    if origin is not None:
        print(f"  continuations of run {args.run} from the end of day {origin.day} of "
              f"{printable(args.from_state, None)}")
        if origin.scenario_sha256 != scenario.sha256:
            print(f"note: {printable(args.file, None)} is not the scenario that saved the "
                  f"state: a what-if with its parameters from day {origin.day + 1} on")
    for name, row in summary["outcomes"].items():
        lo, hi = row["ci95"]
        print(f"  {name:<26} {row['probability']:6.1%}   95% CI {lo:6.1%} - {hi:6.1%}")
    print(f"  {headline.coercion_line(summary['coercion'])}")
    if args.until_ci:
        half = summary["max_ci95_half_width"]
        reached = "reached" if half < args.until_ci else "NOT reached (cap --max-runs)"
        print(f"  every 95% interval within +/-{args.until_ci:g}: {reached} after "
              f"{ensemble.n_runs:,} runs (widest +/-{half:.4f})")
    print(f"results: {folder}")
    if args.save_day is not None:
        print(f"state: {folder / res.state_file_name(args.save_day)}")
    print(f"report: {folder / 'report.html'}")
    return 0


def cmd_compare(args) -> int:
    """Run the scenarios on common random numbers; print the differences."""
    import json

    from sim.results import compare
    scenarios = compare.load_all(args.files)
    first = scenarios[0]
    runs = args.runs or first.spec.montecarlo.runs
    days = args.days or first.spec.horizon_days
    n = len(scenarios)
    # one folder per scenario plus the comparison's own charts and page
    workers = _prepare(args, runs, runs * n, days, first, args.out / "compare",
                       folders=n + 1, keep=DEFAULT_KEEP)
    with _working(args, runs * n, workers) as (backend, progress):
        folder = compare.run(scenarios, args.out, runs=runs, seed=args.seed, days=days,
                             backend=backend, chunk_size=args.chunk_size, progress=progress)
    cmp = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    names = [printable(name, None) for name in cmp["scenarios"]]  # file names: any bytes
    print(f"{len(names)} scenarios x {cmp['runs']:,} runs x {cmp['days']} days, "
          f"seed {cmp['seed']} (common random numbers)")
    width = max(12, *(len(n) for n in names))
    print(f"  {'outcome':<26}" + "".join(f" {n:>{width}}" for n in names))
    for outcome, row in cmp["outcomes"].items():
        print(f"  {outcome:<26}" + "".join(f" {p:>{width}.1%}" for p in row["probability"]))
        for k in range(1, len(names)):
            d = row["difference"][k]
            lo, hi = d["ci95"]
            print(f"  {'':<4}{names[k]} - {names[0]}: {100 * d['mean']:+.1f} points, "
                  f"95% CI [{100 * lo:+.1f}, {100 * hi:+.1f}]")
    holds = cmp["robustness"]["ranking_holds"]
    print(f"  ranking by mean peak index {'holds' if holds else 'CHANGES'} across the "
          f"scoring schemes")
    print(f"results: {folder}\nreport: {folder / 'compare.html'}")
    return 0


def cmd_plot(args) -> int:
    """Redraw charts and report of a results or comparison folder."""
    from sim.results.replot import replot
    print(f"report: {replot(args.folder, args.scoring)}")
    return 0


def cmd_story(args) -> int:
    """Print one run's day-by-day narrative."""
    from sim.inputs.scenario import load_scenario
    from sim.model import story
    scenario = load_scenario(args.file)
    print(story.tell(scenario, args.run, seed=args.seed, days=args.days, why=args.why), end="")
    return 0


def _history_options(p, runs_help: str, default_runs: int = 1000):
    """The options ``escsim backtest`` and ``escsim calibrate`` share."""
    p.add_argument("folder", metavar="DIR", type=Path, nargs="?",
                   help="folder of case files (default: the shipped historical cases, "
                        "scenarios/history)")
    p.add_argument("--runs", type=_runs, default=default_runs,
                   help=f"{runs_help}, at most {MAX_RUNS:,} (default: {default_runs:,})")
    p.add_argument("--seed", type=_seed, default=0, help="master seed of every case (default: 0)")
    p.add_argument("--out", type=Path, default=Path("outputs"),
                   help="parent folder for results (default: outputs)")
    p.add_argument("--workers", type=_workers,
                   help=f"worker processes, at most {MAX_WORKERS} (default: all cores; 1 "
                        "runs in this process)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(backend="local", scheduler=None, chunk_size=None)


def _history_cases(args, verb: str, points: int):
    """The cases of ``args.folder``, checked for room: (cases, worker count)."""
    if args.folder is None:  # found wherever escsim is installed, not only in a checkout
        from sim.inputs.shipped import shipped_dir
        args.folder = shipped_dir() / "history"
    from sim.results import backtest
    cases, notes = backtest.find_cases(args.folder)
    for note in notes:
        print(note)
    if points * args.runs > MAX_RUNS:
        raise InputError([Problem(Path("--points"), None, "", f"{points:,} points x "
                                  f"{args.runs:,} runs is more than {MAX_RUNS:,} runs per case")])
    total = points * args.runs
    workers = max(_prepare(args, total, total, case.spec.horizon_days, case,
                           args.out / verb) for case in cases)
    return cases, workers


def cmd_calibrate(args) -> int:
    """Fit the presets' free decision parameters on the historical cases of a folder."""
    from sim.results import calibrate
    cases, workers = _history_cases(args, "calibrate", args.points)
    with _working(args, args.points * args.runs * len(cases), workers) as (backend, progress):
        folder, cal, numbers = calibrate.run_to_folder(
            args.folder, cases, args.out, args.points, args.runs, args.seed,
            argv=["escsim", *sys.argv[1:]], backend=backend, progress=progress)
    print(calibrate.text_summary(cal, numbers))
    print(f"results: {folder}\nreport: {folder / 'report.html'}")
    return 0


def cmd_backtest(args) -> int:
    """Score the model on the historical cases of a folder; print the table and scores."""
    from sim.results import backtest
    if args.points is not None and not args.cv:
        raise InputError([Problem(Path("--points"), None, "", "needs --cv (the design points "
                                  "of the cross-validation)")])
    points = (args.points or DEFAULT_POINTS) if args.cv else 1
    cases, workers = _history_cases(args, "backtest", points)
    base = backtest.load_base_rates(args.folder)
    with _working(args, points * args.runs * len(cases), workers) as (backend, progress):
        folder, bt, numbers = backtest.run_to_folder(
            args.folder, cases, base, args.out, args.runs, args.seed,
            argv=["escsim", *sys.argv[1:]], cv_points=points if args.cv else None,
            backend=backend, progress=progress)
    print(backtest.text_summary(bt, numbers))
    print(f"results: {folder}\nreport: {folder / 'report.html'}")
    return 0


def cmd_actions(args) -> int:
    """Print the action catalogue as a table."""
    from sim.inputs import catalogue
    cat = catalogue.load()
    print(f"{'id':<30} {'CAMEO':<5} {'PLOVER':<9} {'Goldstein':>9} {'level':>5} "
          f"{'MID':>3} {'ladder':>6} {'rivera':>6}  actors -> target")
    for a in cat.actions:
        print(f"{a.id:<30} {a.cameo:<5} {a.plover or '-':<9} {a.goldstein:>9.1f} "
              f"{a.level:>5} {a.severity.mid:>3} {a.severity.ladder:>6} "
              f"{a.severity.rivera:>6}  {'/'.join(a.actors)} -> {a.target}")
    print(f"\n{len(cat)} actions. Levels: " +
          "; ".join(f"{k} {v}" for k, v in cat.levels.items()))
    return 0


COMMANDS = {"validate": cmd_validate, "run": cmd_run, "compare": cmd_compare,
            "plot": cmd_plot, "story": cmd_story, "backtest": cmd_backtest,
            "calibrate": cmd_calibrate, "scenarios": cmd_scenarios, "handout": cmd_handout,
            "play": cmd_play, "debrief": cmd_debrief, "app": cmd_app, "sweep": cmd_sweep,
            "sensitivity": cmd_sensitivity, "discover": cmd_discover, "actions": cmd_actions}


@contextlib.contextmanager
def _stop_on_signals():
    """SIGINT raises KeyboardInterrupt and SIGTERM :class:`Terminated`, once.

    Both unwind the same way (workers stopped, the staging folder and any
    empty folder this run created removed). Further signals are ignored
    while that cleanup runs, so a second Ctrl-C cannot leave half of it done.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def stop(signum, frame):
        for name in ("SIGINT", "SIGTERM"):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``escsim`` and ``python -m sim``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _stop_on_signals():
            status = COMMANDS[args.command](args)
            sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at exit
            return status
    except BrokenPipeError:
        # the reader stopped early (`escsim actions | head`): stop quietly, as Unix tools do;
        # stdout goes to devnull so the interpreter's final flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except InputError as exc:
        if args.debug:
            raise
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INPUT
    except ResourceError as exc:
        if args.debug:
            raise
        print(f"escsim: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except (KeyboardInterrupt, Terminated) as exc:
        if args.debug:
            raise
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated"
        print(f"{what}; no results were written", file=sys.stderr)
        return EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else EXIT_TERMINATED


if __name__ == "__main__":
    sys.exit(main())
