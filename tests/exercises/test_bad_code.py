"""Broken learner code gives a clear message with file and line, a failing status and no hang."""

from __future__ import annotations

import dataclasses
import shutil
import time

import pytest

from nexus_lab.checker.runner import run_check_process

from .conftest import ROOT


def _write(tmp_path, exercise, text: str):
    shutil.copy2(ROOT / "solutions" / "fraud_contract.py", tmp_path / "fraud_contract.py")
    path = tmp_path / (ROOT / exercise.file).name
    path.write_text(text)
    return path


def _solution(exercise) -> str:
    return (ROOT / exercise.solution).read_text()


@pytest.mark.parametrize("name,edit,words", [
    ("syntax error",
     lambda s: s.replace("async def setup_registry(lab) -> None:", "async def setup_registry(lab) -> None"),
     ["SyntaxError", "^"]),
    ("failed import", lambda s: s.replace("from fraud_contract import", "from fraud_contracts import"),
     ["Importing", "ModuleNotFoundError", "fraud_contracts"]),
])
def test_code_that_does_not_import_is_an_error_with_file_and_line(tmp_path, manifest, check_server, name, edit, words):
    exercise = manifest.exercise("ch01-route-endpoint")
    text = edit(_solution(exercise))
    result = run_check_process(exercise, _write(tmp_path, exercise, text), check_server.address)
    assert result.status == "error"
    marker = "setup_registry(lab) -> None\n" if name == "syntax error" else "from fraud_contracts"
    line = next(n for n, row in enumerate(text.splitlines(keepends=True), 1) if marker in row)
    assert f"ch01_route_endpoint.py:{line}:" in result.message, result.text()
    for word in words:
        assert word in result.message, result.text()


def test_wrong_signature_fails_with_the_learners_line(tmp_path, manifest, check_server):
    exercise = manifest.exercise("ch01-route-endpoint")
    text = _solution(exercise).replace("async def setup_registry(lab)", "async def setup_registry(lab, endpoint)")
    result = run_check_process(exercise, _write(tmp_path, exercise, text), check_server.address)
    assert result.status == "fail"
    assert "TypeError" in result.message and "ch01_route_endpoint.py:16: async def setup_registry" in result.message, \
        result.text()


def test_endless_loop_at_import_is_killed_at_the_timeout_with_its_line(tmp_path, manifest, check_server):
    exercise = dataclasses.replace(manifest.exercise("ch01-route-endpoint"), timeout=2.0)
    text = _solution(exercise) + "\nwhile True:\n    pass\n"
    started = time.monotonic()
    result = run_check_process(exercise, _write(tmp_path, exercise, text), check_server.address)
    elapsed = time.monotonic() - started
    assert result.status == "error"
    assert "module level" in result.message and "ch01_route_endpoint.py:" in result.message, result.text()
    assert elapsed < exercise.timeout + 3.5, elapsed


def test_workflow_that_never_finishes_fails_with_what_it_waits_for(tmp_path, manifest, check_server):
    exercise = manifest.exercise("ch05-execute-with-timeout")
    text = _solution(exercise).replace("        fraud = workflow.create_nexus_client(",
                                       "        await workflow.wait_condition(lambda: False)\n"
                                       "        fraud = workflow.create_nexus_client(")
    started = time.monotonic()
    result = run_check_process(exercise, _write(tmp_path, exercise, text), check_server.address)
    assert result.status == "fail"
    assert "No result in time" in result.message, result.text()
    assert time.monotonic() - started < exercise.timeout
