"""How each kind of handler error crosses the language border, in both directions, on the real server.

The same ``errors.v1`` operation is implemented in Python (nexus_lab.polyglot.ErrorsHandler) and in
TypeScript (polyglot/src/handlers.ts); each caller reports what it received in the same fields.
"""

from __future__ import annotations

import pytest

from nexus_lab import polyglot

# kind -> (cause class in TypeScript, in Python, detail in TypeScript, in Python)
EXPECTED = {
    "handler-error": ("HandlerError", "HandlerError", "BAD_REQUEST", "BAD_REQUEST"),
    "operation-error": ("ApplicationFailure", "ApplicationError", "OperationError nonRetryable=true",
                        "OperationError non_retryable=True"),
    "application-error": ("HandlerError", "HandlerError", "INTERNAL", "INTERNAL"),
}


@pytest.mark.parametrize("kind", polyglot.FAILURE_KINDS)
async def test_python_handler_error_as_the_typescript_caller_sees_it(polyglot_lab, unique, kind):
    report = await polyglot_lab.client("payments").execute_workflow(
        "describeFailure", args=[polyglot.PY_ERRORS_ENDPOINT, {"kind": kind}], id=f"ts-sees-{kind}-{unique}",
        task_queue=polyglot.TS_CALLER_QUEUE)
    ts_cause, _, ts_detail, _ = EXPECTED[kind]
    assert report["error"] == "NexusOperationFailure"
    assert (report["cause"], report["detail"]) == (ts_cause, ts_detail)
    if kind == "application-error":  # wrapped: the Python ApplicationError is the innermost cause
        assert report["origin"] == "ApplicationFailure CardBlocked nonRetryable=true: Python handler: card blocked"
    else:
        assert report["message"].startswith("Python handler:") and report["origin"] == ""


@pytest.mark.parametrize("kind", polyglot.FAILURE_KINDS)
async def test_typescript_handler_error_as_the_python_caller_sees_it(polyglot_lab, unique, kind):
    report = await polyglot_lab.execute(
        polyglot.DescribeFailureWorkflow.run, polyglot.DescribeRequest(polyglot.TS_ERRORS_ENDPOINT, kind),
        namespace="fraud", task_queue=polyglot.PY_ERRORS_QUEUE, id=f"py-sees-{kind}-{unique}")
    _, py_cause, _, py_detail = EXPECTED[kind]
    assert report.error == "NexusOperationError"
    assert (report.cause, report.detail) == (py_cause, py_detail)
    if kind == "application-error":
        assert report.origin == "ApplicationError CardBlocked non_retryable=True: TypeScript handler: card blocked"
    else:
        assert report.message.startswith("TypeScript handler:") and report.origin == ""
