"""The course on a real JupyterHub, end to end, in headless Chromium (Debian's, driven by
Playwright): the recommended set-up of the README's "For the instructor".

One hub (configurable-http-proxy from npm, the local process spawner), one instructor and
three students, each a real Unix user made by this test, with nbgrader's extensions and an
exchange every user can write. The instructor generates and releases ``backprop`` in
formgrader; each student fetches it from the Assignments tab, answers one question (right,
slipped, or not at all), runs the whole notebook (every self-check shows its verdict) and
submits. The instructor collects, grades with ``backprop-kit grade --feedback-dir`` and
releases the feedback through nbgrader's exchange; each student fetches it and sees their own
page, and cannot reach another's. Screenshots go to ``test-artifacts/``.

Skipped, saying why, where it cannot run: not root, no node/npm, no Chromium, no Debian
python3 for the users (``tests/hub_env.py`` installs the rest once per machine).
"""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import hub_env
import pytest

from autograder.course import examples
from autograder.judge.checks import DEFAULT_CREDIT
from autograder.judge.diagnosis import FEEDBACK
from autograder.rubric.course import questions
from autograder.student.notebook import NOT_ANSWERED

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 240_000
COURSE = "ml2-optimisation"
ASSIGNMENT = "backprop"
W12 = next(q for q in questions(ASSIGNMENT) if q.id == "backprop-dR-dw12")
LAB_SETTINGS = {  # no notification popup, every cell rendered (Playwright finds them all)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _why_not() -> str | None:
    why = hub_env.missing()
    if why:
        return why
    if not CHROMIUM.exists():
        return f"no browser: {CHROMIUM} not found (Debian: apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if shutil.which("jupyterhub", path=str(Path(sys.executable).parent)) is None:
        return "jupyterhub is not installed in this environment (pip install -e '.[test]')"
    return None


@dataclass
class Hub:
    url: str
    base: Path
    venv: Path
    instructor: str
    students: dict[str, str]  # role (right, slip, blank) -> Unix user
    token: str
    password: str
    logs: list[str] = field(default_factory=list)

    @property
    def course(self) -> Path:
        return self.home(self.instructor) / "course"

    @property
    def exchange(self) -> Path:
        return self.base / "exchange"

    def home(self, user: str) -> Path:
        return self.base / "home" / user

    def as_user(self, user: str, *cmd: str, cwd: Path | None = None,
                check: bool = True) -> subprocess.CompletedProcess[str]:
        """A command as that Unix user, in the environment their server has."""
        env = ["env", "-i", f"HOME={self.home(user)}", f"USER={user}", "LANG=C.UTF-8",
               f"PATH={self.venv / 'bin'}:/usr/bin:/bin",
               f"JUPYTER_CONFIG_PATH={self.base / 'conf' / self._role(user)}"]
        result = subprocess.run(["runuser", "-u", user, "--", *env, *cmd],
                                cwd=cwd or self.home(user), capture_output=True, text=True,
                                timeout=600)
        self.logs.append(f"$ ({user}) {' '.join(cmd)} -> {result.returncode}\n"
                         f"{result.stdout[-2000:]}{result.stderr[-3000:]}")
        if check and result.returncode != 0:
            raise AssertionError(self.logs[-1])
        return result

    def _role(self, user: str) -> str:
        return "instructor" if user == self.instructor else "students"

    def api(self, method: str, path: str) -> int:
        request = urllib.request.Request(f"{self.url}/hub/api{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:  # not listening yet
            return 0


def _make_user(name: str, home: Path) -> None:
    subprocess.run(["useradd", "-m", "-d", str(home), "-s", "/bin/bash", name], check=True,
                   capture_output=True)
    home.chmod(0o700)  # a student's files are their own
    settings = home / ".jupyter" / "lab" / "user-settings"
    for name_, value in LAB_SETTINGS.items():
        path = settings / name_
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    subprocess.run(["chown", "-R", f"{name}:{name}", str(home)], check=True)


def _config(hub: Hub, ports: dict[str, int], chp: Path) -> str:
    users = [hub.instructor, *hub.students.values()]
    return f'''c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{ports["proxy"]}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{ports["hub"]}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{ports["api"]}"
c.ConfigurableHTTPProxy.command = [{str(chp)!r}]
c.ConfigurableHTTPProxy.pid_file = {str(hub.base / "run" / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{hub.base / "run" / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(hub.base / "run" / "cookie_secret")!r}
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {hub.password!r}
c.Authenticator.allowed_users = {set(users)!r}
c.Authenticator.admin_users = {{{hub.instructor!r}}}
c.JupyterHub.services = [{{"name": "course-test", "api_token": {hub.token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-test", "services": ["course-test"],
                            "scopes": ["admin:servers", "admin:users"]}}]
c.Spawner.cmd = [{str(hub.venv / "bin" / "jupyterhub-singleuser")!r}]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300


def course_environment(spawner):
    """Students and the instructor each get their nbgrader configuration; nbgrader runs
    alembic by name, so the environment's bin/ comes first on PATH."""
    role = "instructor" if spawner.user.name == {hub.instructor!r} else "students"
    spawner.environment["JUPYTER_CONFIG_PATH"] = {str(hub.base / "conf")!r} + "/" + role
    spawner.environment["PATH"] = {str(hub.venv / "bin")!r} + ":/usr/bin:/bin"
    spawner.environment["MPLBACKEND"] = "Agg"
    if role == "instructor":
        spawner.notebook_dir = {str(hub.course)!r}


c.Spawner.pre_spawn_hook = course_environment
'''


def _course_config(hub: Hub) -> None:
    """nbgrader's configuration as an administrator puts it in a config path: the course and
    an exchange every user can write; students get no formgrader."""
    for role in ("students", "instructor"):
        folder = hub.base / "conf" / role
        folder.mkdir(parents=True)
        lines = ["c = get_config()  # noqa", f"c.CourseDirectory.course_id = {COURSE!r}",
                 f"c.Exchange.root = {str(hub.exchange)!r}"]
        if role == "instructor":
            lines.append(f"c.CourseDirectory.root = {str(hub.course)!r}")
        (folder / "nbgrader_config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (hub.base / "conf" / "students" / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {
            "nbgrader.server_extensions.formgrader": False}}}), encoding="utf-8")
    for path in (hub.base / "conf").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _install_kit(venv: Path, into: Path) -> None:
    """The student kit, built from this code, into the students' environment."""
    from autograder.course.studentkit import build

    wheel = build(into)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps",
                    "--force-reinstall", str(wheel)], check=True)
    subprocess.run(["chmod", "-R", "a+rX", str(venv)], check=True)


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    why = _why_not()
    if why:
        pytest.skip(f"JupyterHub course test: {why}")
    chp, venv = hub_env.ensure()
    base = Path(tempfile.mkdtemp(prefix="bpk-hub-"))
    base.chmod(0o755)
    tag = secrets.token_hex(3)
    made: list[str] = []
    server = None
    hub = Hub("", base, venv, f"bpk{tag}-ta",
              {role: f"bpk{tag}-{name}" for role, name in
               (("right", "alice"), ("slip", "bob"), ("blank", "carol"))},
              secrets.token_hex(16), secrets.token_hex(8))
    try:
        _install_kit(venv, base / "dist")
        hub.exchange.mkdir()
        hub.exchange.chmod(0o777)
        for user in (hub.instructor, *hub.students.values()):
            _make_user(user, hub.home(user))
            made.append(user)
        shutil.copytree(ROOT / "assignments", hub.course / "assignments")
        shutil.copy(ROOT / "nbgrader_config.py", hub.course)
        subprocess.run(["chown", "-R", f"{hub.instructor}:{hub.instructor}", str(hub.course)],
                       check=True)
        _course_config(hub)
        (base / "run").mkdir()
        ports = {name: _free_port() for name in ("proxy", "hub", "api")}
        hub.url = f"http://127.0.0.1:{ports['proxy']}"
        (base / "run" / "jupyterhub_config.py").write_text(_config(hub, ports, chp))
        log = (base / "run" / "jupyterhub.log").open("w")
        server = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f",
                                   "jupyterhub_config.py"], cwd=base / "run", stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while hub.api("GET", "/") != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterHub did not start: "
                            + (base / "run" / "jupyterhub.log").read_text()[-3000:])
            time.sleep(0.5)
        for user in (hub.instructor, *hub.students.values()):  # all four start at once
            assert hub.api("POST", f"/users/{user}/server") in (201, 202), user
        yield hub
    finally:
        if server is not None:
            server.terminate()  # the hub stops the users' servers and its proxy
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, 9)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "jupyterhub-course.log").write_text(
            "\n".join(hub.logs) + "\n--- jupyterhub.log\n"
            + ((base / "run" / "jupyterhub.log").read_text(errors="replace")[-20000:]
               if (base / "run" / "jupyterhub.log").exists() else ""))
        for user in made:
            subprocess.run(["userdel", "-r", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


# --- the browser ---------------------------------------------------------------------------


def _login(browser, hub: Hub, user: str):
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**")
    expect(page.locator("#jp-main-statusbar")).to_be_visible()
    return page


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def _assignments_tab(page):
    """nbgrader's Assignments tab (Nbgrader > Assignment List)."""
    _menu(page, "Nbgrader", "Assignment List")
    return page


def _release(page, hub: Hub) -> None:
    """Formgrader, as the instructor clicks it: generate the student version, then release."""
    from playwright.sync_api import expect

    page.goto(f"{hub.url}/user/{hub.instructor}/formgrader/manage_assignments")
    for icon in ("glyphicon-education", "glyphicon-cloud-upload"):
        row = page.locator("tr", has=page.locator("td", has_text=ASSIGNMENT)).first
        row.locator(f".{icon}").click()
        modal = page.locator("#success-modal, #error-modal")
        expect(modal).to_be_visible()
        assert modal.get_attribute("id") == "success-modal", modal.inner_text()
        modal.locator("button", has_text="OK").first.click()
        expect(modal).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "hub-instructor-released.png"), full_page=True)


def _answer(role: str) -> str | None:
    if role == "right":
        return examples.answer_code(W12.name, W12.expected)
    if role == "slip":
        return examples.answer_code(W12.name, examples.sign_slip(W12.expected))
    return None  # left as released


def _hand_in(page, hub: Hub, role: str, user: str, released: dict) -> str:
    """Fetch, answer, Run All, submit; returns what the W12 check cell shows."""
    from playwright.sync_api import expect

    tab = _assignments_tab(page)
    tab.locator("#released_assignments_list button", has_text="Fetch").click()
    expect(tab.locator("#fetched_assignments_list .list_item").first).to_be_visible()
    page.goto(f"{hub.url}/user/{user}/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    expect(cells).to_have_count(len(released["cells"]))
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle")
    index = {c["metadata"].get("nbgrader", {}).get("grade_id"): i
             for i, c in enumerate(released["cells"])}
    answer = _answer(role)
    if answer is not None:
        cells.nth(index[W12.answer_cell]).locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(answer)
    _menu(page, "Run", "Run All Cells")
    last = max(i for i, c in enumerate(released["cells"]) if c["cell_type"] == "code")
    expect(cells.nth(last).locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle")
    check = cells.nth(index[W12.id])
    check.scroll_into_view_if_needed()
    check.screenshot(path=str(ARTIFACTS / f"hub-{role}-check.png"))
    shown = check.locator(".jp-OutputArea").inner_text()
    page.keyboard.press("Control+s")
    saved = hub.home(user) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    deadline = time.monotonic() + 60
    while answer is not None and answer.split('"')[1][:15] not in saved.read_text():
        assert time.monotonic() < deadline, "the notebook was not saved"
        time.sleep(0.5)
    tab = _assignments_tab(page)
    tab.locator("#fetched_assignments_list button", has_text="Submit").first.click()
    expect(tab.locator("#submitted_assignments_list .list_item").first).to_be_visible()
    return shown


def _feedback(page, hub: Hub, user: str) -> tuple[str, str]:
    """Fetch Feedback in the Assignments tab, then open the page nbgrader delivered."""
    from playwright.sync_api import expect

    tab = _assignments_tab(page)
    tab.locator("#submitted_assignments_list button", has_text="Fetch Feedback").first.click()
    expect(tab.locator("#submitted_assignments_list", has_text="view feedback")).to_be_visible()
    (found,) = glob.glob(str(hub.home(user) / ASSIGNMENT / "feedback" / "*" /
                             f"{ASSIGNMENT}.html"))
    relative = Path(found).relative_to(hub.home(user)).as_posix()
    url = f"{hub.url}/user/{user}/files/{urllib.request.quote(relative)}"
    page.goto(url)
    expect(page.locator("h1")).to_be_visible()
    return url, page.locator("body").inner_text()


def test_a_course_on_jupyterhub(hub: Hub) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pages = {}
        try:
            teacher = _login(browser, hub, hub.instructor)
            _release(teacher, hub)
            released = json.loads((hub.course / "release" / ASSIGNMENT /
                                   f"{ASSIGNMENT}.ipynb").read_text(encoding="utf-8"))
            shown = {}
            for role, user in hub.students.items():
                pages[role] = _login(browser, hub, user)
                shown[role] = _hand_in(pages[role], hub, role, user, released)
            assert "Correct." in shown["right"]
            assert FEEDBACK["sign"] in shown["slip"]
            assert f"{W12.name}: {NOT_ANSWERED}" in shown["blank"]
            handed_in = time.monotonic() - started

            # the instructor: collect, grade, release the feedback (the README's commands)
            collected = hub.as_user(hub.instructor, "nbgrader", "collect", ASSIGNMENT,
                                    cwd=hub.course)
            assert "cheating" not in collected.stdout + collected.stderr  # distinct users
            grades = hub.base / "grades"
            graded = subprocess.run(
                [str(Path(sys.executable).parent / "backprop-kit"), "grade",
                 str(hub.course / "submitted"), "-a", ASSIGNMENT, "-o", str(grades), "-j", "2",
                 "--feedback-dir", str(hub.course / "feedback")],
                capture_output=True, text=True, timeout=600)
            hub.logs.append(f"$ backprop-kit grade ... -> {graded.returncode}\n"
                            f"{graded.stdout}{graded.stderr}")
            assert graded.returncode == 0, graded.stderr[-3000:]
            subprocess.run(["chown", "-R", f"{hub.instructor}:{hub.instructor}",
                            str(hub.course / "feedback")], check=True)
            hub.as_user(hub.instructor, "nbgrader", "release_feedback", ASSIGNMENT,
                        cwd=hub.course)

            results = {s["student"]: s for s in json.loads(
                (grades / "results.json").read_text(encoding="utf-8"))["submissions"]}
            assert set(results) == set(hub.students.values())
            w12 = {role: next(q for q in results[user]["questions"] if q["id"] == W12.id)
                   for role, user in hub.students.items()}
            credit = {**DEFAULT_CREDIT, **W12.credit}["sign"]
            assert w12["right"]["points"] == W12.points
            assert w12["slip"]["points"] == pytest.approx(W12.points * credit)
            assert w12["blank"]["points"] == 0
            assert results[hub.students["blank"]]["points"] == 0

            # each student sees their own feedback page, and only theirs
            urls = {}
            for role, user in hub.students.items():
                urls[role], text = _feedback(pages[role], hub, user)
                pages[role].screenshot(path=str(ARTIFACTS / f"hub-{role}-feedback.png"),
                                       full_page=True)
                sub = results[user]
                assert f"Feedback for {user}" in text
                assert f"Total: {sub['points']:g} / {sub['max_points']:g} points" in text
                others = [u for u in hub.students.values() if u != user]
                assert not any(other in text for other in others), role
            peek = pages["slip"]
            peek.goto(urls["right"])  # bob tries alice's page
            assert f"Feedback for {hub.students['right']}" not in peek.content()
            peek.screenshot(path=str(ARTIFACTS / "hub-slip-cannot-read-right.png"))
            listing = hub.as_user(hub.students["slip"], "ls",
                                  str(hub.exchange / COURSE / "feedback"), check=False)
            assert listing.returncode != 0  # the exchange's feedback folder is not listable
        except Exception:
            for role, page in pages.items():
                page.screenshot(path=str(ARTIFACTS / f"hub-failure-{role}.png"))
            raise
        finally:
            browser.close()
    whole = time.monotonic() - started
    (ARTIFACTS / "hub-timing.txt").write_text(
        f"students handed in after {handed_in:.0f} s; whole course {whole:.0f} s\n")
