"""`escsim app`: the server, its settings, join codes, the ensemble queue and the page shell.

The unit tests need no browser. The browser tests (marked slow) start a real `escsim app`
process and open it in headless Chromium with every request to another host aborted:
the page must load from this machine alone.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
from importlib.metadata import version

import pytest

from sim.app import config, jobs
from sim.app.config import CODE_ALPHABET, CODE_LENGTH, Attempts
from sim.app.pages import PROJECTOR_SCALE, wants_projector
from sim.app.server import room_address
from sim.errors import InputError
from tests.app_harness import browser, offline_context, open_page, serve, stop  # noqa: F401
from tests.conftest import ROOT

# --- join codes and their limit ---------------------------------------------------------


def test_join_codes_use_only_unambiguous_characters():
    """A join code is 6 characters none of which can be misread from a projector
    (0/O, 1/I/L, 2/Z, 5/S, 8/B), and codes are not repeated."""
    codes = [config.new_code() for _ in range(200)]
    for code in codes:
        assert len(code) == CODE_LENGTH == 6
        assert set(code) <= set(CODE_ALPHABET)
    assert not set(CODE_ALPHABET) & set("0O1IL2Z5S8B")
    # 200 draws among 25**6 codes collide with probability ~1e-4 if they are random
    assert len(set(codes)) == len(codes)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_five_wrong_codes_lock_out_that_client_for_the_rest_of_the_minute():
    """After 5 wrong codes in a minute a client is refused, with the time left to wait;
    another client is not; a minute after its first wrong code the client may try again."""
    clock = Clock()
    limit = Attempts(per_client=5, overall=30, window=60, clock=clock)
    for second in range(5):
        assert limit.allowed("10.0.0.2")
        clock.now = 1000.0 + second
        limit.wrong("10.0.0.2")
    assert not limit.allowed("10.0.0.2")
    assert limit.wait("10.0.0.2") == pytest.approx(56)  # the first try was at second 0
    assert limit.allowed("10.0.0.3")
    clock.now = 1060.0
    assert limit.allowed("10.0.0.2")  # the try at second 0 has left the window


def test_thirty_wrong_codes_from_many_clients_lock_out_everyone():
    """Guessing spread over many clients (each under its own limit) stops at 30 wrong
    codes a minute in all, so changing address does not multiply the guesses."""
    clock = Clock()
    limit = Attempts(per_client=5, overall=30, window=60, clock=clock)
    for n in range(30):
        assert limit.allowed(f"client{n}")
        limit.wrong(f"client{n}")
    assert not limit.allowed("a-new-client")
    assert limit.wait("a-new-client") == pytest.approx(60)


def test_check_code_accepts_the_code_and_refuses_guessers(monkeypatch):
    """The right code (typed in lower case, with spaces) is accepted; a wrong one is
    refused and counted; once over the limit even the right code is refused with the
    wait, so a guesser cannot learn anything from further tries."""
    monkeypatch.setattr(config.CONFIG, "join_code", "ACD347")
    monkeypatch.setattr(config, "ATTEMPTS", Attempts(per_client=2, overall=30, window=60))
    assert config.check_code("1.2.3.4", "acd 347") is None
    assert config.check_code("1.2.3.4", "ACD348") == "wrong join code"
    assert config.check_code("1.2.3.4", "ACD349") == "wrong join code"
    refusal = config.check_code("1.2.3.4", "ACD347")
    assert re.fullmatch(r"too many wrong codes: try again in \d+ s", refusal), refusal
    assert config.check_code("5.6.7.8", "ACD347") is None


# --- scenarios the browser may open -------------------------------------------------------


def test_the_browser_names_scenarios_never_paths(monkeypatch):
    """Only the shipped scenarios' names (and one named on the command line) resolve;
    a path, even to a real scenario file, is refused, with a hint for a near miss."""
    monkeypatch.setattr(config.CONFIG, "extra", {})
    names = config.scenario_names()
    assert "caribbean-2025" in names and "history/pueblo-1968" in names
    assert config.scenario_path("caribbean-2025") == ROOT / "scenarios" / "caribbean-2025.yaml"
    for bad in ["/etc/passwd", "../scenarios/caribbean-2025", "scenarios/caribbean-2025.yaml",
                str(ROOT / "scenarios" / "caribbean-2025.yaml")]:
        with pytest.raises(InputError):
            config.scenario_path(bad)
    with pytest.raises(InputError, match="did you mean 'caribbean-2025'"):
        config.scenario_path("caribean-2025")


def test_a_scenario_named_on_the_command_line_joins_the_list(monkeypatch, variant):
    """`escsim app FILE` with a file outside the shipped folder offers it by its name; a
    shipped file given by path keeps its shipped name."""
    monkeypatch.setattr(config, "CONFIG", config.Config())
    path = variant("", name="my-class.yaml")
    assert config.CONFIG.use_scenario(path) == "my-class"
    assert config.scenario_path("my-class") == path.resolve()
    assert config.CONFIG.default_scenario == "my-class"
    shipped = ROOT / "scenarios" / "fictional-strait.yaml"
    assert config.CONFIG.use_scenario(shipped) == "fictional-strait"


# --- the ensemble queue ---------------------------------------------------------------


def test_the_second_job_waits_until_the_first_ends():
    """Two jobs: while the first runs the second waits behind it (position 1, shown in
    the queue), and starts only after the first has ended."""
    queue = jobs.Queue()
    release, log = threading.Event(), []

    def first():
        log.append("first starts")
        release.wait(30)
        log.append("first ends")
        return 1

    a = queue.submit("run 1,000: caribbean-2025", first)
    b = queue.submit("run 1,000: fictional-strait", lambda: log.append("second starts") or 2)
    while a.position != 0:  # the worker thread picks the first job up
        a.wait(0.01)
    assert b.position == 1 and not b.done
    assert queue.snapshot() == [("run 1,000: caribbean-2025", "running"),
                                ("run 1,000: fictional-strait", "waiting, 1 ahead")]
    release.set()
    assert b.wait(30)
    assert log == ["first starts", "first ends", "second starts"]
    assert (a.result, b.result, a.position, b.position) == (1, 2, None, None)
    assert queue.snapshot() == []


def test_a_failing_job_reports_its_error_and_the_queue_goes_on():
    """A job that raises ends with its error on its ticket; the next job still runs."""
    queue = jobs.Queue()
    bad = queue.submit("bad", lambda: 1 / 0)
    good = queue.submit("good", lambda: "ok")
    assert good.wait(30)
    assert bad.done and isinstance(bad.error, ZeroDivisionError) and bad.state == "failed"
    assert good.result == "ok" and good.error is None and good.state == "done"


def test_a_full_queue_refuses_more_jobs():
    """At its limit of waiting jobs the queue refuses another with a ResourceError."""
    from sim.errors import ResourceError
    queue, release = jobs.Queue(max_waiting=2), threading.Event()
    running = queue.submit("running", release.wait, 30)
    while running.position != 0:
        running.wait(0.01)
    queue.submit("one", lambda: None)
    queue.submit("two", lambda: None)
    with pytest.raises(ResourceError, match="queue is full"):
        queue.submit("three", lambda: None)
    release.set()


# --- settings of the page -------------------------------------------------------------


def test_projector_is_asked_for_in_the_address():
    """`?projector=1` (or true/yes/on) turns the projector view on; anything else not."""
    assert wants_projector("projector=1") and wants_projector("a=2&projector=true")
    assert not wants_projector("projector=0") and not wants_projector(None)
    assert not wants_projector("projectors=1")


def test_the_pinned_versions_are_installed():
    """Solara is 1.58.2, the newest with a matching solara-assets package (the page's
    assets, served locally), and ipyvuetify is below 3, whose release blanked Solara pages
    (docs/app.md says why). The browser tests below check that a page loads with them."""
    assert version("solara") == version("solara-assets") == "1.58.2"
    assert int(version("ipyvuetify").split(".")[0]) < 3


def test_the_room_address_is_a_real_non_loopback_address():
    """The address printed for the room is an IPv4 address of this machine, not loopback:
    a socket can be bound to it (None only on a machine without a network)."""
    address = room_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", address) and not address.startswith("127.")
    with socket.socket() as sock:
        sock.bind((address, 0))


# --- the command: errors, signals, --lan --------------------------------------------------


def app_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sim", "app", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path):
    """A port another program listens on: one line saying so, exit 2, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = app_cli("--port", port, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and f"port {port} is in use" in proc.stderr
    assert proc.stdout == ""


def test_a_bad_scenario_is_the_usual_located_error(tmp_path, variant):
    """A scenario with a misspelt field is refused before serving: FILE:LINE: field, with
    a hint, exit 2, no traceback and nothing served."""
    path = variant("actors:\n  USA:\n    resolv: 0.5\n")
    proc = app_cli(path, "--port", 0, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert re.search(rf"^{re.escape(str(path))}:\d+: actors\.USA", proc.stderr, re.M), \
        proc.stderr
    assert "Traceback" not in proc.stderr and "app:" not in proc.stdout


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_app_quietly(tmp_path, sig, status):
    """SIGTERM and Ctrl-C (SIGINT) stop a running app with 143 and 130 and no traceback."""
    url, proc = serve(tmp_path)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    assert stop(proc, sig) == status
    assert "Traceback" not in proc.stderr_path.read_text()


def test_by_default_only_this_machine_is_served(tmp_path):
    """Without --lan the app listens on 127.0.0.1 only: the room's address is refused,
    and no join code is printed."""
    url, proc = serve(tmp_path)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    assert "code" not in proc.banner and "room" not in proc.banner
    assert proc.banner["instructor"].startswith(f"{url}class?key=")
    room = room_address()
    if room is not None:
        with pytest.raises(ConnectionRefusedError), socket.create_connection((room, port), 5):
            pass
    stop(proc)


def test_lan_serves_the_room_and_prints_its_address_and_the_join_code(tmp_path):
    """--lan binds every interface: the printed room address accepts connections, and a
    join code of 6 unambiguous characters is printed."""
    url, proc = serve(tmp_path, "--lan")
    port = int(url.rsplit(":", 1)[1].strip("/"))
    assert re.fullmatch(rf"[{CODE_ALPHABET}]{{6}}", proc.banner["code"])
    room = room_address()
    if room is None:
        assert proc.banner["room"].startswith("no network address found")
    else:
        assert proc.banner["room"] == f"http://{room}:{port}/"
        with socket.create_connection((room, port), 5):
            pass
    stop(proc)


# --- in a real browser, offline --------------------------------------------------------


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    url, proc = serve(tmp_path_factory.mktemp("app"))
    yield url
    stop(proc)


def root_font_px(page) -> float:
    return float(page.evaluate("getComputedStyle(document.documentElement).fontSize")[:-2])


@pytest.mark.slow
def test_the_page_loads_with_the_network_cut(browser, app_url, tmp_path):  # noqa: F811
    """With every request to another host aborted the home page draws its title bar and
    links, asks for nothing outside this machine, logs no error and is not Solara's error
    page: every asset is local (this is also the check that the pinned Solara and
    ipyvuetify give a page, not a blank one)."""
    context, external = offline_context(browser)
    page = open_page(context, app_url)
    body = page.inner_text("body")
    for label in ("Explore", "Play", "Class", "Projector"):
        assert label.upper() in body.upper()
    assert "Traceback" not in body and "Error" not in body
    # the title bar's white links stand on a dark bar, not on the white page
    bar = page.eval_on_selector(".escsim-bar", "e => getComputedStyle(e).backgroundColor")
    assert bar not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), bar
    page.wait_for_load_state("networkidle")
    assert external == []
    assert page.errors == []
    shot = tmp_path / "home.png"
    page.screenshot(path=shot)
    assert shot.stat().st_size > 10_000  # a blank page compresses to a few hundred bytes
    context.close()


@pytest.mark.slow
def test_projector_view_enlarges_the_type(browser, app_url):  # noqa: F811
    """`?projector=1` makes the root font PROJECTOR_SCALE % of the normal one (every size
    on the page is in rem, so all of it grows); the title bar's switch does the same."""
    context, external = offline_context(browser)
    page = open_page(context, app_url)
    normal = root_font_px(page)
    page.click(".escsim-projector input", force=True)
    page.wait_for_function(f"parseFloat(getComputedStyle(document.documentElement).fontSize)"
                           f" > {normal * 1.2}")
    assert root_font_px(page) == pytest.approx(normal * PROJECTOR_SCALE / 100)
    big = open_page(context, app_url + "?projector=1")
    big.wait_for_function(f"parseFloat(getComputedStyle(document.documentElement).fontSize)"
                          f" > {normal * 1.2}")
    assert root_font_px(big) == pytest.approx(normal * PROJECTOR_SCALE / 100)
    text = big.eval_on_selector(".escsim-page", "e => getComputedStyle(e).color")
    assert text == "rgb(0, 0, 0)"  # high contrast: black text
    assert external == []
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("path", ["explore", "play", "class", "projector"])
def test_every_page_of_the_navigation_opens(browser, app_url, path):  # noqa: F811
    """Each page in the title bar opens offline without an error page or a console error."""
    context, external = offline_context(browser)
    page = open_page(context, app_url + path)
    assert "Traceback" not in page.inner_text("body")
    assert external == [] and page.errors == []
    context.close()



@pytest.mark.slow
def test_sigterm_stops_the_app_while_a_page_is_open(browser, tmp_path):  # noqa: F811
    """With a browser connected (an open websocket) SIGTERM still ends the app with 143,
    without a traceback, within the harness's 10 s (the app gives pages 2 s to close)."""
    url, proc = serve(tmp_path)
    context, _ = offline_context(browser)
    open_page(context, url)
    assert stop(proc, signal.SIGTERM) == 143
    assert "Traceback" not in proc.stderr_path.read_text()
    context.close()


@pytest.mark.slow
def test_with_lan_the_instructors_home_page_shows_the_join_code(browser, tmp_path):  # noqa: F811
    """With --lan the home page opened on the laptop itself shows the printed join code (and
    draws: no error page)."""
    url, proc = serve(tmp_path, "--lan")
    context, external = offline_context(browser)
    page = open_page(context, url)
    assert "Traceback" not in page.inner_text("body")
    page.wait_for_selector(".escsim-join-code", timeout=20_000)
    assert proc.banner["code"] in page.inner_text(".escsim-join-code")
    assert external == [] and page.errors == []
    context.close()
    stop(proc)
