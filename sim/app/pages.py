"""The Solara app (``SOLARA_APP=sim.app.pages``): routes, the home page and the shared layout.

The Explore, Play and Class pages live in their own modules, imported when a browser
opens them, so the home page loads quickly and a page under construction cannot break
the others. The layout has a title bar with the navigation and a "projector" switch;
the switch, or ``?projector=1`` in the address, gives large type and high contrast for
a room's back row. Every size on the pages is in rem, so scaling the root font scales
everything.
"""

from __future__ import annotations

import importlib
from urllib.parse import parse_qs

import solara

from sim.app import config, jobs
from sim.app.config import CONFIG

TITLE = "escsim"
QUEUE_POLL = 1.0  # seconds between looks at the queue when nothing changes
PROJECTOR_SCALE = 160  # percent of the browser's root font size on the projector
PAGES = [  # (path, label, module, component, what it is for)
    ("explore", "Explore", "explore", "Explore",
     "move sliders, step one crisis day by day, run 1,000 and compare with the scenario"),
    ("play", "Play", "play", "Play", "take a role and choose each day's move"),
    ("class", "Class", "classmode", "Class",
     "a class game: teams join from their own browsers with the join code"),
    ("projector", "Projector", "classmode", "Projector",
     "the class game for the room's screen, without any team's private brief"),
]

# Solara keeps a reactive variable per browser tab, so one tab's switch moves no other.
projector = solara.reactive(False)

# Solara's theme sizes text in px; the same sizes in rem follow the projector's root font.
STYLE = """
:root:root { --jp-content-font-size1: 0.875rem; --jp-ui-font-size1: 0.8125rem;
  --jp-code-font-size: 0.8125rem; }
.v-application .escsim-page code { font-size: 0.875rem !important; }
.escsim-bar { background-color: #1f3b57 !important; padding: 0.25rem 1rem; }
.escsim-bar .v-btn, .escsim-bar .v-label { color: #fff !important; }
.escsim-bar .v-input { margin-top: 0; padding-top: 0; }
.escsim-bar .v-input__slot { margin-bottom: 0; }
.escsim-bar .v-messages { display: none; }
.escsim-page { max-width: 70rem; margin: 0 auto; padding: 1rem; }
"""
# High contrast for a projector: black on white, no greyed-out text, thicker outlines.
PROJECTOR_STYLE = f"""
html {{ font-size: {PROJECTOR_SCALE}% !important; }}
.v-application {{ color: #000 !important; background-color: #fff !important; }}
.v-application .v-sheet, .v-application .v-card__title, .v-application .v-card__text,
.v-application .v-card__subtitle, .v-application .text--secondary,
.v-application .grey--text, .v-application .v-label, .v-application .v-messages,
.v-application .solara-markdown {{ color: #000 !important; }}
.v-application .v-card {{ border: 0.15rem solid #000 !important; }}
.escsim-bar {{ background-color: #000 !important; }}
.v-application a {{ color: #00e !important; text-decoration: underline; }}
.v-application a.v-btn {{ text-decoration: none; }}
.escsim-bar, .escsim-bar .v-btn, .escsim-bar .v-label {{ color: #fff !important; }}
"""


def wants_projector(search: str | None) -> bool:
    """Whether an address's query asks for the projector view (``projector=1``)."""
    values = parse_qs(search or "").get("projector", [])
    return any(v.lower() in ("1", "true", "yes", "on") for v in values)


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara passes children this way
    """The title bar (name, navigation, projector switch) above the page."""
    router = solara.use_router()
    solara.use_effect(lambda: projector.set(True) if wants_projector(router.search) else None,
                      [router.search])
    solara.Style(STYLE + (PROJECTOR_STYLE if projector.value else ""))
    solara.Title(TITLE)
    with solara.Column(gap="0", style={"min-height": "100vh"}):
        with solara.Row(classes=["escsim-bar"], style={"align-items": "center",
                                                       "flex-wrap": "wrap"}):
            solara.Button(TITLE, text=True, href="/", classes=["escsim-home"])
            for path, label, *_ in PAGES:
                solara.Button(label, text=True, href=f"/{path}")
            solara.v.Spacer()
            solara.Switch(label="projector", value=projector, classes=["escsim-projector"])
        with solara.Column(classes=["escsim-page"]):
            QueueLine()
            solara.Column(children=children)


@solara.component
def QueueLine():
    """The ensemble queue, while it holds anything: what runs and what waits."""
    snapshot, set_snapshot = solara.use_state(jobs.QUEUE.snapshot())

    def follow(cancel):
        seen = -1
        while not cancel.is_set():
            seen = jobs.QUEUE.changed(seen, timeout=QUEUE_POLL)
            set_snapshot(jobs.QUEUE.snapshot())

    solara.use_thread(follow, [], intrusive_cancel=False)
    if snapshot:
        solara.Text("Queue: " + "; ".join(f"{label} ({state})" for label, state in snapshot),
                    classes=["escsim-queue"])


@solara.component
def Home():
    """What the page offers; with --lan, on this computer's screen, the join code."""
    solara.Markdown("# escsim\nAn agent-based simulator of escalation crises: "
                    f"the page opens **{CONFIG.default_scenario}**.")
    for path, label, _module, _component, what in PAGES:
        with solara.Card(label):
            solara.Markdown(what)
            solara.Button(f"Open {label}", href=f"/{path}", outlined=True)
    if CONFIG.lan and config.is_local():  # the instructor's screen, not the students'
        with solara.Div(classes=["escsim-join-code"]):
            solara.Markdown(f"## Join code: `{CONFIG.join_code}`")


def lazy(module: str, component: str, label: str):
    """A component showing ``sim.app.MODULE.COMPONENT``, imported when first shown."""
    @solara.component
    def Page():
        try:
            found = importlib.import_module(f"sim.app.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"sim.app.{module}":
                raise  # a page whose own imports fail shows that error, not "coming soon"
            found = None
        if found is None or not hasattr(found, component):
            return solara.Info(f"The {label} page is not part of this version yet.")
        return getattr(found, component)()
    Page.__name__ = label
    return Page


routes = [solara.Route(path="/", component=Home, label="Home", layout=Layout)] + [
    solara.Route(path=path, component=lazy(module, component, label), label=label)
    for path, label, module, component, _ in PAGES]
