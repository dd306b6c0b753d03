"""The nexus-lab CLI: verify, check --json, hint, reset with backup, list and progress recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from .conftest import ROOT


def _cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "nexus_lab.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


def test_verify_every_solution_passes_and_every_untouched_exercise_fails(tmp_path, check_server, manifest):
    started = time.monotonic()
    done = _cli("verify", "--no-wrong-answers", "--json", str(tmp_path / "verify.json"))
    elapsed = time.monotonic() - started
    report = json.loads((tmp_path / "verify.json").read_text())
    assert done.returncode == 0 and report["ok"], done.stdout + done.stderr
    assert len(report["solutions"]) == len(manifest.exercises)
    assert all(r["status"] == "pass" for r in report["solutions"])
    assert all(r["status"] in ("fail", "error") for r in report["untouched"])
    print(f"nexus-lab verify: {elapsed:.1f} s")  # a figure, not a limit: speed belongs to the benchmark


def test_check_json_is_an_exercism_style_results_file(course_copy, check_server):
    path = course_copy / "results.json"
    done = _cli("check", "ch03-quick-score", "--json", str(path))
    assert done.returncode == 1  # the untouched exercise fails
    results = json.loads(path.read_text())
    assert results["version"] == 2 and results["exercise"] == "ch03-quick-score"
    assert results["status"] == "fail" and "Expected score 25" in results["message"]
    assert results["tests"][0] == {"name": "score of 2500 € in DE is 25", "status": "fail",
                                   "message": results["message"]}
    progress = json.loads((course_copy / ".nexus-lab" / "progress.json").read_text())
    assert progress["exercises"]["ch03-quick-score"]["status"] == "failed"


def test_check_solution_passes_and_prints_each_test(course_copy, check_server):
    done = _cli("check", "ch03-quick-score", "--solution")
    assert done.returncode == 0, done.stdout
    assert "[x] passed" in done.stdout and "✓ the operation is synchronous" in done.stdout


def test_hints_come_one_more_each_time(course_copy, manifest):
    hints = manifest.exercise("ch01-route-endpoint").hints
    outputs = [_cli("hint", "ch01-route-endpoint").stdout for _ in range(len(hints) + 1)]
    for n, hint in enumerate(hints, 1):
        assert f"Hint {n}/{len(hints)}" in outputs[n - 1] and hint in outputs[n - 1]
    assert hints[-1] in outputs[-1]  # past the last one, the last one again


def test_reset_restores_the_exercise_and_keeps_a_backup(course_copy):
    path = course_copy / "exercises" / "ch01_route_endpoint.py"
    original = path.read_text()
    path.write_text(original + "\n# my own work\n")
    done = _cli("reset", "ch01-route-endpoint")
    assert done.returncode == 0
    assert path.read_text() == original
    backups = list((course_copy / ".nexus-lab" / "backups").glob("ch01_route_endpoint.*.py"))
    assert len(backups) == 1 and backups[0].read_text().endswith("# my own work\n")
    assert "nothing to back up" in _cli("reset", "ch01-route-endpoint").stdout


def test_corrupted_progress_is_set_aside_and_list_still_works(course_copy):
    progress = course_copy / ".nexus-lab" / "progress.json"
    progress.parent.mkdir(parents=True, exist_ok=True)
    progress.write_text("{ not json")
    done = _cli("list")
    assert done.returncode == 0 and "0/" in done.stdout and "ch01-route-endpoint" in done.stdout
    assert "could not be read" in done.stderr
    assert list(progress.parent.glob("progress.json.corrupt-*"))


def test_unknown_exercise_is_a_clear_error(course_copy):
    done = _cli("check", "ch99-nope")
    assert done.returncode == 2 and "Known exercises" in done.stderr
    for command in ("check", "hint", "verify"):  # a typo: the near ID, in one line, no traceback
        done = _cli(command, "ch10-fail-fst")
        assert done.returncode != 0, command
        assert "Did you mean 'ch10-fail-fast'?" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_pytest_junit_output_for_the_same_checks(tmp_path, check_server):
    xml = tmp_path / "junit.xml"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(ROOT / "tests" / "exercises" / "learner_checks.py"), "-k", "ch03",
                           f"--junitxml={xml}"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "NEXUS_LAB_CHECK": "exercises"})
    cases = ET.parse(xml).getroot().iter("testcase")
    outcome = {c.get("name"): c.find("failure") for c in cases}
    assert set(outcome) == {"test_exercise[ch03-quick-score]", "test_exercise[ch03-submit-review]"}, done.stdout
    assert "Expected score 25" in outcome["test_exercise[ch03-quick-score]"].get("message")


def test_a_server_that_cannot_start_is_one_line_not_a_traceback(monkeypatch, capsys, tmp_path):
    """With no server running, a check starts a private one; if that fails, the learner reads why."""
    from nexus_lab import cli
    from nexus_lab import server as server_module
    from nexus_lab.server import find_free_port_pair

    monkeypatch.setenv("NEXUS_LAB_PORT", str(find_free_port_pair(28500)))  # nothing listens there
    monkeypatch.setenv("NEXUS_LAB_PROGRESS", str(tmp_path / "progress.json"))
    failing = "echo 'Error: unable to open the database file' >&2; exit 1"  # the real CLI's errors go to stderr
    monkeypatch.setattr(server_module, "_server_command", lambda *a, **k: ["sh", "-c", failing])
    assert cli.main(["check", "ch03-quick-score"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nexus-lab check: The Temporal dev server exited (code 1) before it was ready.")
    assert "unable to open the database file" in err and "Traceback" not in err
