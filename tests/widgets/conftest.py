"""Widget tests: the quiz fixture and a progress file of their own per test."""

from __future__ import annotations

from pathlib import Path

import pytest

QUIZ_FILE = Path(__file__).with_name("quiz-fixture.toml")

# Driven in Chromium by test_browser.py (JupyterLab runs it); never collected by nbval directly.
collect_ignore = ["browser-check.ipynb"]


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    """A fresh progress file, so answers recorded by one test never count in another."""
    path = tmp_path / "progress.json"
    monkeypatch.setenv("NEXUS_LAB_PROGRESS", str(path))
    return path


@pytest.fixture
def quiz(progress_file):
    from nexus_lab.course.quiz import load_quiz

    return load_quiz(QUIZ_FILE)


@pytest.fixture(scope="session")
async def story_walkthrough(lab):
    """One walkthrough for the session: a sync and an async operation of the course story, run now."""
    import nexus_lab

    return await nexus_lab.walkthrough(lab)


@pytest.fixture(scope="session")
async def risky(lab):
    """Namespaces, an endpoint of its own (the circuit breaker counts per endpoint) and workers for
    the operations that go wrong."""
    from . import risky_story as story

    endpoint = "widgets-risk"
    await lab.namespace(story.CALLER_NAMESPACE)
    await lab.namespace(story.HANDLER_NAMESPACE)
    await lab.endpoint(endpoint, namespace=story.HANDLER_NAMESPACE, task_queue=story.HANDLER_QUEUE)
    await lab.worker(namespace=story.HANDLER_NAMESPACE, task_queue=story.HANDLER_QUEUE,
                     nexus_services=[story.RiskServiceHandler()])
    await lab.worker(namespace=story.CALLER_NAMESPACE, task_queue=story.CALLER_QUEUE,
                     workflows=[story.RejectedPaymentWorkflow, story.FlakyPaymentWorkflow])
    return story, endpoint
