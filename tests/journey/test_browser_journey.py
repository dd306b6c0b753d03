"""A learner's whole path in a real browser: the README's first command, every chapter, an exercise.

JupyterLab is started the way the README starts it (``make lab``: ``nexus-lab init`` a workspace,
then ``nexus-lab lab`` on it; as root in CI), and Debian's Chromium, driven by Playwright, then

1. runs EVERY chapter of course.toml with Run All, failing on any error output, traceback or
   widget error (one JupyterLab for all; each chapter's kernel is shut down after it);
2. follows the learner loop: opens an exercise from its card's link in JupyterLab's editor, edits
   it into a wrong answer, Check (the message names the mistake), fixes it, Check (passes), and runs
   ``nexus-lab check`` in a JupyterLab terminal (so ``nexus-lab`` is on the terminal's PATH);
3. re-runs a chapter, interrupts a waiting cell and runs it again (one-line messages only);
4. follows a Web UI link from a history and sees the workflow.

Screenshots go to ``test-artifacts/journey/`` (``$NEXUS_LAB_ARTIFACTS``), kept by CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.widgets.test_browser import (
    CHROMIUM_ARGS,
    JUPYTER_PORTS,
    _free_port,
    _quiet_lab_settings,
    _wait_until_serving,
    chromium,  # noqa: F401 - the fixture
)

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("NEXUS_LAB_ARTIFACTS", REPO / "test-artifacts")) / "journey"
EXERCISE = "ch01-route-endpoint"
CHAPTER_TIMEOUT_S = 90

pytestmark = pytest.mark.slow


@pytest.fixture
def course_lab(tmp_path):
    """`make lab` with a workspace of its own, JupyterLab options for a headless run, own settings."""
    from nexus_lab.server import find_free_port_pair

    workspace = tmp_path / "course"
    _quiet_lab_settings(tmp_path / "settings")
    port = _free_port(JUPYTER_PORTS)
    env = {k: v for k, v in os.environ.items() if k not in ("NEXUS_LAB_PROGRESS", "NEXUS_LAB_COURSE")}
    env.update({"NEXUS_LAB_PORT": str(find_free_port_pair(31400)), "NEXUS_LAB_HOME": str(tmp_path / "lab-home"),
                "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
                "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
                "PATH": "/usr/local/bin:/usr/bin:/bin"})  # nothing activated: the lab must bring its own PATH
    lab_args = (f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --ServerApp.port_retries=0 "
                "--IdentityProvider.token= --ServerApp.password= --LabApp.expose_app_in_browser=True "
                "--LabApp.news_url= --LabApp.extension_manager=readonly")
    # -o: the venv is installed already (make test did it); never reinstall from inside a test.
    command = ["make", "--no-print-directory", "-o", ".venv/.installed", "lab", f"WORKSPACE={workspace}",
               f"LAB_ARGS={lab_args}"]
    log = tmp_path / "jupyter.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, proc, log, timeout=60)
        yield {"url": url, "workspace": workspace, "log": log, "home": Path(env["NEXUS_LAB_HOME"])}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # JupyterLab shuts its kernels down; their servers die with them
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _shot(name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")


CURRENT = "(window.jupyterapp && window.jupyterapp.shell.currentWidget)"  # undefined while the page loads

# Every output of the open notebook, from its model: errors, stderr tracebacks, and widget outputs.
OUTPUT_PROBLEMS = r"""() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const problems = [];
  const cells = panel.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    for (const out of cell.outputs.toJSON()) {
      if (out.output_type === 'error') problems.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
      const text = [].concat(out.text || '').join('');
      if (out.output_type === 'stream' && /Traceback \(most recent call last\)/.test(text)) {
        problems.push(`cell ${i} stream: ${text.slice(0, 400)}`);
      }
    }
  }
  for (const node of panel.node.querySelectorAll('.jp-OutputArea-output')) {
    if (/Error displaying widget/.test(node.textContent)) {
      problems.push('widget error: ' + node.textContent.slice(0, 200));
    }
  }
  return problems;
}"""

RUN_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.model.cells;
  let pending = 0, errors = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    if (cell.executionCount === null || cell.executionState === 'running') pending++;
    for (const out of cell.outputs.toJSON()) if (out.output_type === 'error') errors++;
  }
  const busy = panel.node.querySelectorAll('.jp-InputPrompt').length &&
      [...panel.node.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('[*]'));
  return {status: kernel ? kernel.status : 'none', pending, errors, busy};
}"""


async def _open(page, url: str, path: str) -> None:
    await page.goto(f"{url}/lab/tree/{path}?reset")
    await page.wait_for_function(
        f"() => {{ const w = {CURRENT}; const k = w && w.sessionContext && w.sessionContext.session"
        " && w.sessionContext.session.kernel; return k && k.status === 'idle'; }")


async def _menu(page, menu: str, item: str) -> None:
    await page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    await page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


async def _run_all(page, timeout_s: float = CHAPTER_TIMEOUT_S) -> float:
    """Run ▸ Run All Cells, as a learner would; the seconds until every cell ran (or one failed)."""
    started = time.monotonic()
    await _menu(page, "Run", "Run All Cells")
    await page.wait_for_timeout(300)
    while time.monotonic() - started < timeout_s:
        state = await page.evaluate(RUN_STATE)
        if state["status"] == "idle" and not state["busy"] and (state["pending"] == 0 or state["errors"]):
            return time.monotonic() - started
        await page.wait_for_timeout(200)
        if int(time.monotonic() - started) % 15 == 0:
            print("  still running:", state, flush=True)
    raise AssertionError(f"Run All did not finish within {timeout_s}s: {await page.evaluate(RUN_STATE)}")


async def _shutdown_kernel(page) -> None:
    await page.evaluate(f"() => {CURRENT}.sessionContext.shutdown()")


def _chapters() -> list[dict]:
    """Every chapter of course.toml (``$NEXUS_LAB_JOURNEY_CHAPTERS=ch00,ch01`` narrows it while debugging)."""
    chapters = tomllib.loads((REPO / "course.toml").read_text())["chapter"]
    only = [c for c in os.environ.get("NEXUS_LAB_JOURNEY_CHAPTERS", "").split(",") if c]
    return [c for c in chapters if not only or c["id"] in only or c["id"] == "ch01"]


async def test_a_learners_journey_in_chromium(chromium, course_lab):  # noqa: F811 - the fixture
    from playwright.async_api import async_playwright, expect

    url, workspace = course_lab["url"], course_lab["workspace"]
    assert (workspace / "course.toml").is_file() and not (workspace / "solutions").exists()
    timings: dict[str, float] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1400, "height": 1800})
        page = await context.new_page()
        page.set_default_timeout(45_000)
        # Leaving a page with unsaved notebooks asks "Leave site?": a learner says yes.
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        try:
            problems: dict[str, list[str]] = {}
            for chapter in _chapters():
                await _open(page, url, chapter["notebook"])
                timings[chapter["id"]] = await _run_all(page)
                found = await page.evaluate(OUTPUT_PROBLEMS)
                print(f"{chapter['id']}: Run All {timings[chapter['id']]:.1f}s {found or ''}", flush=True)
                if found:
                    problems[chapter["id"]] = found
                    await page.screenshot(path=_shot(f"error-{chapter['id']}"), full_page=True)
                if chapter["id"] != "ch01":  # ch01 stays open for the learner loop
                    await _shutdown_kernel(page)
            print("Run All per chapter: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
            assert not problems, json.dumps(problems, indent=1)

            if "loop" not in os.environ.get("NEXUS_LAB_JOURNEY_SKIP", ""):
                await _learner_loop(page, context, url, workspace, expect)
            await _rerun_and_interrupt(page, context, url, expect)
        finally:
            await page.screenshot(path=_shot("last-page"))
            await browser.close()


async def _learner_loop(page, context, url: str, workspace: Path, expect) -> None:
    """Card link → editor → wrong answer → Check names it → fix → Check passes → terminal check."""
    await _open(page, url, "notebooks/01-endpoints-and-registry.ipynb")
    await _run_all(page)
    card = page.locator(".nexus-lab-exercise-card", has_text=EXERCISE).first
    await card.scroll_into_view_if_needed()
    await card.locator("a", has_text=f"exercises/{EXERCISE.replace('-', '_')}.py").first.click()
    editor_title = page.locator(".lm-TabBar-tab.lm-mod-current", has_text=f"{EXERCISE.replace('-', '_')}.py")
    await expect(editor_title).to_be_visible()
    assert "notebooks/" in page.url or "/lab" in page.url  # the page did not navigate away

    solution = (REPO / "solutions" / f"{EXERCISE.replace('-', '_')}.py").read_text()
    wrong = tomllib.loads((REPO / "tests/exercises/wrong_answers" / f"{EXERCISE}.toml").read_text())["wrong"][0]
    wrong_text = solution
    for old, new in wrong["replace"]:
        wrong_text = wrong_text.replace(old, new)
    await _set_editor_text(page, wrong_text)
    await page.screenshot(path=_shot("exercise-in-editor"))
    learner_file = workspace / "exercises" / f"{EXERCISE.replace('-', '_')}.py"
    assert learner_file.read_text() == wrong_text

    await page.locator(".lm-TabBar-tab", has_text="01-endpoints-and-registry").first.click()
    card = page.locator(".nexus-lab-exercise-card", has_text=EXERCISE).first
    feedback = card.locator(".nexus-lab-exercise-feedback")
    await card.get_by_role("button", name="Check").click()
    await expect(feedback).to_contain_text("not yet", timeout=60_000)
    for words in wrong["expect"]:
        await expect(feedback).to_contain_text(words, timeout=1_000)
    await card.screenshot(path=_shot("check-wrong-answer"))

    learner_file.write_text(solution)  # the fix, saved from outside: the card reads the file as it is now
    await card.get_by_role("button", name="Check").click()
    await expect(feedback).to_contain_text("passed", timeout=60_000)
    await card.screenshot(path=_shot("check-passes"))

    out = workspace.parent / "terminal-check.txt"
    await page.evaluate("() => window.jupyterapp.commands.execute('terminal:create-new')")
    terminal = page.locator(".jp-Terminal").last
    await expect(terminal).to_be_visible()
    await page.wait_for_timeout(1500)
    await terminal.click()
    await page.keyboard.type(f"cd {workspace} && nexus-lab check {EXERCISE} > {out} 2>&1; echo \"exit=$?\" >> {out}\n")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "exit=" not in (out.read_text() if out.exists() else ""):
        await page.wait_for_timeout(300)
    await page.screenshot(path=_shot("terminal-check"))
    text = out.read_text()
    assert "exit=0" in text and "passed" in text and "command not found" not in text, text


async def _set_editor_text(page, text: str) -> None:
    """Replace the open editor's text as typing would (through its model), then File ▸ Save."""
    saved = await page.evaluate(
        f"""async (text) => {{
          const widget = {CURRENT};
          await widget.context.ready;
          widget.content.model.sharedModel.setSource(text);
          await widget.context.save();
          return widget.context.path;
        }}""", text)
    assert saved.startswith("exercises/"), saved


async def _rerun_and_interrupt(page, context, url: str, expect) -> None:
    """Run a chapter again, interrupt a waiting cell, run it again; then follow a Web UI link."""
    await _open(page, url, "notebooks/00-welcome.ipynb")
    print("journey: chapter 0 opened again", flush=True)
    await _run_all(page)
    await _run_all(page)  # twice in one kernel: every cell is harmless to re-run
    print("journey: chapter 0 ran twice", flush=True)
    assert await page.evaluate(OUTPUT_PROBLEMS) == []

    waiting = ('lab = await nexus_lab.start()\n'
               'await lab.execute("NobodyRunsThis", namespace="payments", task_queue="nobody-polls", '
               'id="journey-wait", timeout=None)')
    for attempt in (1, 2):
        await _append_cell_and_run(page, waiting)
        print(f"journey: waiting cell sent ({attempt})", flush=True)
        await page.wait_for_timeout(2500)
        await _menu(page, "Kernel", "Interrupt Kernel")
        last = page.locator(".jp-Notebook .jp-Cell").last
        await expect(last.locator(".jp-OutputArea").first).to_contain_text("LabInterruptedError")
        shown = await last.locator(".jp-OutputArea").inner_text()
        assert "CancelledError" not in shown and "Traceback" not in shown, shown
        assert len([line for line in shown.splitlines() if line.strip()]) <= 3, shown
        if attempt == 2:
            assert "was still running from an earlier run" in shown, shown
    await page.screenshot(path=_shot("interrupted-cell"))

    # Chapter 0 shows its history as a table with a link; the chapter has ended, the link still leads there.
    link = page.locator(".nexus-lab-history a", has_text="open in the Web UI").first
    await link.scroll_into_view_if_needed()
    async with context.expect_page() as new_tab:
        await link.click()
    ui = await new_tab.value
    await ui.get_by_text("ch00-payment-1").first.wait_for(timeout=30_000)
    await ui.get_by_text("PaymentWorkflow").first.wait_for(timeout=30_000)
    assert "/namespaces/payments/workflows/ch00-payment-1" in ui.url
    await ui.screenshot(path=_shot("web-ui-workflow"))


async def _append_cell_and_run(page, source: str) -> None:
    await page.evaluate(
        """(source) => {
          const panel = window.jupyterapp.shell.currentWidget;
          const notebook = panel.content;
          notebook.activeCellIndex = notebook.widgets.length - 1;
          window.jupyterapp.commands.execute('notebook:insert-cell-below');
          notebook.activeCell.model.sharedModel.setSource(source);
        }""", source)
    # Not awaited in the page: the command's promise settles only when the cell has finished.
    await page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-cell'); }")


def test_make_lab_recipe_is_root_safe_and_puts_the_venv_first():
    """The recipe `make lab` runs: init, then nexus-lab lab (which adds --allow-root for root)."""
    from nexus_lab.course.workspace import lab_command

    recipe = subprocess.run(["make", "-n", "-o", ".venv/.installed", "lab", "WORKSPACE=/tmp/ws"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    assert ".venv/bin/nexus-lab init /tmp/ws" in recipe and ".venv/bin/nexus-lab lab /tmp/ws" in recipe
    command, env = lab_command(REPO, ["--no-browser"], python=sys.executable)
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert ("--allow-root" in command) == (os.geteuid() == 0)
    assert shutil.which("nexus-lab", path=env["PATH"]) and shutil.which("temporal", path=env["PATH"])
    shell = [a for a in command if a.startswith("--ServerApp.terminado_settings")]
    assert shell and "-l" not in shell[0]  # a login shell would reset PATH from /etc/profile
