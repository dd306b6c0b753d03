"""The widgets in a real browser: JupyterLab on a free local port, Debian's Chromium driven by Playwright.

The test opens ``browser-check.ipynb`` (a quiz, the lifecycle walkthrough, a timeline, all from a lab
the notebook starts), runs every cell from the Run menu, answers a quiz question wrongly and then
rightly and watches the feedback change, steps the async walkthrough to its last step, and saves a
screenshot (``build/screenshots/widgets-browser.png``, or ``$NEXUS_LAB_SCREENSHOTS``).

Playwright's own browser download does not work on the course machines, so it drives
``/usr/bin/chromium`` (``tools/ensure_chromium.sh``, run by ``make test``, installs it). If Chromium
is missing the test fails and says how to install it: it never passes or skips quietly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parent.parent
CHROMIUM = os.environ.get("NEXUS_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
JUPYTER_PORTS = range(31800, 32000)   # below the kernel's ephemeral range, away from other suites
TEMPORAL_PORTS_FROM = 31600           # the notebook's own Temporal server (+1000 for its UI)
TIMEOUT_MS = 45_000

pytestmark = pytest.mark.slow


@pytest.fixture
def chromium() -> str:
    """The Chromium binary; a loud failure (not a skip) when it is missing."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"BROWSER TEST CANNOT RUN: no Chromium at {CHROMIUM}. Install it with "
                    "`apt-get update && apt-get install -y chromium` (or run tools/ensure_chromium.sh as root); "
                    "Playwright's own browser download does not work here.", pytrace=False)
    return CHROMIUM


def _free_port(candidates: range) -> int:
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError(f"no free port in {candidates}")


def _quiet_lab_settings(settings: Path) -> None:
    """No news or update toasts over the widgets in the screenshot (and no requests to the internet)."""
    folder = settings / "@jupyterlab" / "apputils-extension"
    folder.mkdir(parents=True)
    (folder / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def _wait_until_serving(url: str, proc: subprocess.Popen, log: Path, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer within {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def jupyter_lab(tmp_path):
    """JupyterLab serving a copy of the check notebook, no token, no browser of its own, own settings."""
    from nexus_lab.server import find_free_port_pair

    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(HERE / "browser-check.ipynb", root)
    shutil.copy(HERE / "quiz-fixture.toml", root)
    _quiet_lab_settings(tmp_path / "settings")
    port = _free_port(JUPYTER_PORTS)
    env = {**os.environ,
           "NEXUS_LAB_PORT": str(find_free_port_pair(TEMPORAL_PORTS_FROM)),
           "NEXUS_LAB_HOME": str(tmp_path / "lab-home"),
           "NEXUS_LAB_PROGRESS": str(tmp_path / "progress.json"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces")}
    log = tmp_path / "jupyter.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
               "--ServerApp.allow_root=True", "--ServerApp.terminals_enabled=False",
               "--LabApp.extension_manager=readonly"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, proc, log)
        yield {"url": url, "progress": Path(env["NEXUS_LAB_PROGRESS"]), "log": log}
    finally:
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down; the kernel's lab dies with it
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _screenshot_path() -> Path:
    folder = Path(os.environ.get("NEXUS_LAB_SCREENSHOTS", REPO / "build" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "widgets-browser.png"


async def test_widgets_in_jupyterlab_in_chromium(chromium, jupyter_lab):
    from playwright.async_api import async_playwright, expect

    started = time.monotonic()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 2600})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(f"{jupyter_lab['url']}/lab/tree/browser-check.ipynb?reset")
            await _run_all_cells(page)
            await _answer_quiz_wrong_then_right(page, expect)
            await _step_async_walkthrough(page, expect)
            await _check_an_exercise_inline(page, expect)
            await expect(page.locator("svg.nexus-lab-timeline")).to_be_visible()
            await expect(page.locator(".nexus-lab-timeline-widget")).to_contain_text("NexusOperationStarted →")
            await page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").evaluate("el => el.scrollTo(0, 0)")
            shot = _screenshot_path()
            await page.screenshot(path=str(shot))
        finally:
            await browser.close()
    entry = json.loads(jupyter_lab["progress"].read_text())["quizzes"]["widget-test"]["sync-history"]
    assert (entry["attempts"], entry["correct"]) == (2, True)  # both clicks reached the kernel's progress file
    exercise = json.loads(jupyter_lab["progress"].read_text())["exercises"]["ch03-quick-score"]
    assert exercise["status"] == "failed"  # the Check button ran the real check from the browser
    assert shot.stat().st_size > 20_000
    print(f"screenshot: {shot} ({time.monotonic() - started:.1f}s in the browser)")


async def _run_all_cells(page) -> None:
    """Wait for the kernel, then Run ▸ Run All Cells from the menu bar, as a learner would."""
    await page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return k && k.status === 'idle'; }")
    await page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    await page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    await page.locator(".nexus-lab-lifecycle").wait_for()
    await page.locator("svg.nexus-lab-timeline").wait_for()


async def _answer_quiz_wrong_then_right(page, expect) -> None:
    question = page.locator(".nexus-lab-q-sync-history")
    feedback = question.locator(".nexus-lab-feedback")
    await question.get_by_label("NexusOperationCompleted", exact=True).check()
    await question.get_by_role("button", name="Check").click()
    await expect(feedback).to_contain_text("Not quite.")
    await expect(feedback).to_contain_text("NexusOperationCompleted: wrong.")
    await question.screenshot(path=str(_screenshot_path().with_name("quiz-wrong-answer.png")))
    await question.get_by_role("button", name="Retry").click()
    await expect(feedback).to_have_count(0)
    await question.get_by_label("NexusOperationStarted", exact=True).check()
    await question.get_by_role("button", name="Check").click()
    await expect(feedback).to_contain_text("Right!")
    await expect(feedback).to_contain_text("answers in the start request itself")
    await expect(page.locator(".nexus-lab-score")).to_contain_text("1 of 3 questions answered right")


async def _check_an_exercise_inline(page, expect) -> None:
    card = page.locator(".nexus-lab-exercise-card").first
    await expect(card).to_contain_text("ch03-quick-score")
    await expect(card).to_contain_text("not checked yet")
    await card.get_by_role("button", name="Hint").click()
    await expect(card.locator(".nexus-lab-exercise-feedback")).to_contain_text("Hint 1/3")
    await card.get_by_role("button", name="Check").click()
    await expect(card.locator(".nexus-lab-exercise-feedback")).to_contain_text("not yet", timeout=30_000)
    await expect(card).to_contain_text("last check failed")
    await card.screenshot(path=str(_screenshot_path().with_name("exercise-card.png")))


async def _step_async_walkthrough(page, expect) -> None:
    walkthrough = page.locator(".nexus-lab-lifecycle")
    step = walkthrough.locator(".nexus-lab-step")
    await expect(step).to_contain_text("Step 1 of 4")
    await expect(step).to_contain_text("NexusOperationScheduled")
    await walkthrough.get_by_role("button", name="async · checkTransaction").click()
    next_button = walkthrough.get_by_role("button", name="Next ▶")
    for number, words in ((2, "routes it to the handler"), (3, "returns a token"), (4, "completion callback")):
        await next_button.click()
        await expect(step).to_contain_text(f"Step {number} of 4")
        await expect(step).to_contain_text(words)
    await expect(step).to_contain_text("WorkflowExecutionCompleted")
    await expect(next_button).to_be_disabled()
