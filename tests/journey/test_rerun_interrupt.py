"""Re-running and interrupting a demo cell in a real kernel: at most a few lines, never an SDK traceback.

A cell that runs a workflow with a fixed ID is interrupted while it waits, then run again: the
interrupt says in one line that the workflow goes on and how to stop it; the re-run replaces the old
run (one line says so) instead of failing with ``WorkflowAlreadyStartedError``; nothing needs a
kernel restart.
"""

from __future__ import annotations

import os
import queue
import time

import pytest

from tests.reliability.kernels import Kernel

pytestmark = pytest.mark.slow

SETUP = """
import nexus_lab
from datetime import timedelta
from temporalio import workflow

@workflow.defn
class NapWorkflow:
    @workflow.run
    async def run(self, seconds: float) -> str:
        await workflow.sleep(timedelta(seconds=seconds))
        return f"slept {seconds} s"

lab = await nexus_lab.start()
await lab.namespace("journey")
await lab.worker(namespace="journey", task_queue="naps", workflows=[NapWorkflow])
"""
DEMO_CELL = 'await lab.execute(NapWorkflow.run, {seconds}, namespace="journey", task_queue="naps", id="nap-demo")'


def _outputs(kernel: Kernel, msg_id: str, timeout: float = 60) -> tuple[list[str], list[dict]]:
    """(text outputs, error contents) of a cell sent with ``start_cell``, once the kernel is idle."""
    texts, errors, deadline = [], [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kernel.kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "error":
            errors.append(content)
        elif kind == "stream":
            texts.append(content["text"])
        elif kind == "execute_result":
            texts.append(content["data"].get("text/plain", ""))
        elif kind == "status" and content["execution_state"] == "idle":
            return texts, errors
    raise AssertionError(f"cell still busy after {timeout} s")


@pytest.fixture
def kernel():
    k = Kernel(env={"NEXUS_LAB_HOME": os.environ["NEXUS_LAB_HOME"], "NEXUS_LAB_PORT": os.environ["NEXUS_LAB_PORT"]})
    yield k
    try:
        k.run("await lab.stop()", timeout=30, allow_error=True)
    finally:
        k.close()


def test_interrupt_then_rerun_a_demo_cell(kernel):
    kernel.run(SETUP, timeout=90)

    waiting = kernel.start_cell(DEMO_CELL.format(seconds=60))
    time.sleep(2.0)
    kernel.interrupt()
    texts, errors = _outputs(kernel, waiting)
    assert len(errors) == 1, errors
    shown = "\n".join(errors[0]["traceback"])
    assert errors[0]["ename"] == "LabInterruptedError", errors[0]
    assert len(errors[0]["traceback"]) <= 3 and "CancelledError" not in shown and "Traceback" not in shown, shown
    assert "nap-demo" in shown and "still running" in shown and "lab.terminate" in shown

    rerun = kernel.start_cell(DEMO_CELL.format(seconds=0.2))
    texts, errors = _outputs(kernel, rerun)
    assert not errors, errors
    out = "".join(texts)
    assert "was still running from an earlier run: terminated it" in out and "'slept 0.2 s'" in out, out
    assert len(out.strip().splitlines()) <= 3, out

    again = kernel.start_cell(DEMO_CELL.format(seconds=0.2))  # the old run has completed: no note
    texts, errors = _outputs(kernel, again)
    assert not errors and "".join(texts).strip() == "'slept 0.2 s'", (texts, errors)


def _course_kernel(notebook: str) -> Kernel:
    """A kernel as JupyterLab starts it for a notebook (it names the notebook in JPY_SESSION_NAME)."""
    return Kernel(env={"NEXUS_LAB_HOME": os.environ["NEXUS_LAB_HOME"], "NEXUS_LAB_PORT": os.environ["NEXUS_LAB_PORT"],
                       "JPY_SESSION_NAME": f"/course/notebooks/{notebook}"})


def test_the_next_chapter_stops_the_previous_chapters_workers_and_links_stay_alive():
    first, second = _course_kernel("01-first.ipynb"), _course_kernel("02-second.ipynb")
    try:
        first.run(SETUP, timeout=90)
        assert "1" in first.run("print(len(list(lab.workers)))")
        note = second.run(SETUP, timeout=90)
        said = [line for line in note.splitlines() if "01-first" in line]
        assert len(said) == 1 and said[0].startswith("Stopped the workers of 01-first.ipynb"), note
        time.sleep(1.0)  # the first kernel stops its workers on its own event loop
        assert first.run("print(len(list(lab.workers)))").strip() == "0"
        stale = first.run('await lab.namespace("journey")', allow_error=True)
        assert "LabStoppedError" in stale and "02-second.ipynb" in stale and "Run All" in stale, stale

        resumed = first.run(SETUP, timeout=90)  # Run All in the first chapter again: it takes over
        assert "Stopped the workers of 02-second.ipynb" in resumed, resumed
        assert "'slept 0.1 s'" in first.run(DEMO_CELL.format(seconds=0.1))

        # The chapter's last cell stops its workers; the server (and so every Web UI link) stays up.
        out = first.run("url = lab.web_ui_url('nap-demo', namespace='journey')\nawait lab.stop()\n"
                        "print(lab.server.is_running(), url)")
        assert out.startswith("True http://127.0.0.1:"), out
        assert out.strip().endswith("/namespaces/journey/workflows/nap-demo"), out
    finally:
        for kernel in (second, first):
            kernel.close()
