"""The student's day in a real browser: JupyterLab, Debian's Chromium, driven by Playwright.

JupyterLab serves a released ``backprop`` notebook (with its ``selfcheck.json``) on a free port.
The browser opens it, types a right answer, a slip and an unreadable answer into three answer
cells, leaves the fourth as released, runs the cells and reads what the student sees under
each check. Screenshots go to ``test-artifacts/``. Without Chromium or Playwright the test is
skipped, saying why.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sympy

from autograder.course import examples
from autograder.judge.diagnosis import FEEDBACK
from autograder.rubric.course import questions
from autograder.student.notebook import NOT_ANSWERED, SELFCHECK_FILE

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 120_000
SIGMA, W12, DB1, W11 = questions("backprop")[:4]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} not found (Debian: apt-get install -y chromium)")
    return sync_playwright


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A JupyterLab server on a free port, with a token; yields (url, notebook folder)."""
    _playwright()
    base = tmp_path_factory.mktemp("lab")
    home, folder = base / "home", base / "home" / "backprop"
    folder.mkdir(parents=True)
    nb = examples.blank(examples.load(ROOT / "assignments", "backprop"))
    (folder / "backprop.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
    shutil.copy(ROOT / "assignments" / "backprop" / SELFCHECK_FILE, folder)
    settings = base / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = _free_port(), secrets.token_hex(16)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")},
           "HOME": str(base), "JUPYTER_CONFIG_DIR": str(base / "config"),
           "JUPYTER_DATA_DIR": str(base / "data"), "JUPYTER_RUNTIME_DIR": str(base / "run"),
           "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
           "MPLCONFIGDIR": str(base / "mpl"), "MPLBACKEND": "Agg",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = (base / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={home}", "--ServerApp.port_retries=0",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(base / 'jupyterlab.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        yield f"{url}/lab/tree/backprop/backprop.ipynb?token={token}", folder
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_student_answers_and_checks_in_jupyterlab(lab: tuple[str, Path]) -> None:
    url, folder = lab
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)

    nb = json.loads((folder / "backprop.ipynb").read_text(encoding="utf-8"))
    index = {c["metadata"].get("nbgrader", {}).get("grade_id"): i
             for i, c in enumerate(nb["cells"])}
    typed = {SIGMA.answer_cell: f'{SIGMA.name} = "{sympy.sstr(SIGMA.expected)}"',
             W12.answer_cell: examples.answer_code(W12.name, examples.sign_slip(W12.expected)),
             DB1.answer_cell: f'{DB1.name} = "-2*(y - a1_2"'}
    last = index[W11.id]
    ARTIFACTS.mkdir(exist_ok=True)
    with _playwright()() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            page.set_default_timeout(WAIT_MS)
            page.goto(url)
            cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
            expect(cells).to_have_count(len(nb["cells"]))
            status = page.locator("#jp-main-statusbar")
            expect(status).to_contain_text("| Idle")  # the kernel is up and connected
            for i, cell in enumerate(nb["cells"][:last + 1]):
                if cell["cell_type"] != "code":
                    continue
                view = cells.nth(i)
                editor = view.locator(".cm-content")
                editor.click()
                grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
                if grade_id in typed:
                    page.keyboard.press("Control+a")
                    page.keyboard.insert_text(typed[grade_id])
                page.keyboard.press("Shift+Enter")
                expect(view.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"))
            expect(status).to_contain_text("| Idle")

            def seen(q) -> tuple[str, object]:
                view = cells.nth(index[q.id])
                view.scroll_into_view_if_needed()
                view.screenshot(path=str(ARTIFACTS / f"browser-{q.id}.png"))
                return view.locator(".jp-OutputArea").inner_text(), view

            text, view = seen(SIGMA)  # right: the answer as maths, then the verdict
            assert "Correct." in text and "Out[" not in text
            expect(view.locator(".jp-RenderedLatex mjx-container").first).to_be_visible()
            assert not view.locator(".jp-OutputArea-output[data-mime-type*='error']").count()

            text, view = seen(W12)  # a slip: the cell fails, saying which, without a traceback
            assert FEEDBACK["sign"] in text and "Traceback" not in text
            expect(view.locator(".jp-RenderedLatex mjx-container").first).to_be_visible()

            text, _ = seen(DB1)  # unreadable: says so and where
            assert "could not be read" in text and "Traceback" not in text

            text, _ = seen(W11)  # left as released
            assert f"{W11.name}: {NOT_ANSWERED}" in text and "NameError" not in text
            page.screenshot(path=str(ARTIFACTS / "browser-notebook.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser-failure.png"))
            raise
        finally:
            browser.close()
