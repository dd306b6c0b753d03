"""Typical wrong answers fail their check with a message that says what was expected and what happened.

Each case patches one solution (text replace) into a temporary folder and runs the real check.
"""

from __future__ import annotations

import shutil

import pytest

from nexus_lab.checker.runner import run_check_process

from .conftest import ROOT

CASES = [
    # (case, exercise, old text, new text, words the message must contain)
    ("endpoint to the caller's namespace", "ch01-route-endpoint", "namespace=HANDLER_NAMESPACE, task_queue",
     "namespace=CALLER_NAMESPACE, task_queue", ["routes to namespace 'payments'", "handler's* namespace"]),
    ("endpoint to the wrong task queue", "ch01-route-endpoint", "task_queue=HANDLER_TASK_QUEUE",
     "task_queue=\"payments-tq\"", ["task queue 'payments-tq'", "'fraud-tq'"]),
    ("sync operation where async was asked", "ch04-workflow-run-operation", "    @nexus.workflow_run_operation\n"
     "    async def check_transaction(self, ctx: nexus.WorkflowRunOperationContext,\n"
     "                                tx: Transaction) -> nexus.WorkflowHandle[Verdict]:\n"
     "        return await ctx.start_workflow(FraudCheckWorkflow.run, tx, id=f\"fraud-check-{tx.id}\")",
     "    @nexusrpc.handler.sync_operation\n    async def check_transaction(self, ctx, tx: Transaction) -> Verdict:\n"
     "        return Verdict(tx.id, True, \"low risk\")", ["completed synchronously", "NexusOperationCompleted"]),
    ("request ID instead of the business ID", "ch04-workflow-run-operation", 'id=f"fraud-check-{tx.id}")',
     "id=ctx.request_id)", ["expected the business ID 'fraud-check-T-"]),
    ("no ID conflict policy", "ch04-attach-callers", ",\n                                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)",
     ")", ["NexusOperationFailed"]),
    ("missing timeout", "ch05-execute-with-timeout", ",\n                                                schedule_to_close_timeout=timedelta(seconds=10))",
     ")", ["no schedule_to_close_timeout"]),
    ("wrong timeout", "ch05-execute-with-timeout", "timedelta(seconds=10)", "timedelta(seconds=30)",
     ["is 30s; expected 10s"]),
    ("wrong endpoint name", "ch05-execute-with-timeout", "endpoint=ENDPOINT", 'endpoint="fraud"',
     ["not found", "must call the endpoint 'fraud-detection'"]),
    ("non-deterministic workflow", "ch05-execute-with-timeout", "        fraud = workflow.create_nexus_client(",
     "        __import__('random').random()\n        fraud = workflow.create_nexus_client(",
     ["deterministic", "ch05_execute_with_timeout.py:"]),
    ("wrong error type for invalid input", "ch06-error-classes", "HandlerErrorType.BAD_REQUEST",
     "HandlerErrorType.NOT_FOUND", ["HandlerError(BAD_REQUEST)", "HandlerError(NOT_FOUND)"]),
    ("HandlerError for a business rule", "ch06-error-classes",
     'raise nexusrpc.OperationError(f"amount over the limit of {AMOUNT_LIMIT}",\n'
     "                                          state=nexusrpc.OperationErrorState.FAILED)",
     'raise nexusrpc.HandlerError("over the limit", type=nexusrpc.HandlerErrorType.BAD_REQUEST)',
     ["ApplicationError(type='OperationError')", "a rule said no"]),
    ("non-retryable error for an outage", "ch06-error-classes", "type=nexusrpc.HandlerErrorType.UNAVAILABLE",
     "type=nexusrpc.HandlerErrorType.BAD_REQUEST", ["must be retried", "ended at once", "UNAVAILABLE"]),
    ("a plain exception for an outage", "ch06-error-classes", "except ScoringModelDown as err:", "except KeyError as err:",
     ["INTERNAL", "expected HandlerError UNAVAILABLE"]),
    ("swallowing every error", "ch06-branch-on-cause", "            raise\n            # --- STARTER",
     '            return "declined"\n            # --- STARTER', ["must not be hidden"]),
    ("TRY_CANCEL", "ch07-cancel-type", "NexusOperationCancellationType.WAIT_REQUESTED,\n            # --- STARTER",
     "NexusOperationCancellationType.TRY_CANCEL,\n            # --- STARTER", ["that is TRY_CANCEL"]),
    ("WAIT_COMPLETED", "ch07-cancel-type", "NexusOperationCancellationType.WAIT_REQUESTED,\n            # --- STARTER",
     "NexusOperationCancellationType.WAIT_COMPLETED,\n            # --- STARTER", ["that is WAIT_COMPLETED"]),
    ("clean-up that swallows the cancellation", "ch07-cleanup", "            raise\n            # --- STARTER",
     '            return Verdict(tx.id, False, "cancelled")\n            # --- STARTER', ["ended COMPLETED", "re-raise"]),
    ("a wrong prediction", "ch08-predict-events", '"C": ["NexusOperationScheduled", "NexusOperationFailed"]',
     '"C": ["Scheduled", "Started", "Failed"]', ["You predicted", "the real run shows NexusOperationScheduled → NexusOperationFailed"]),
    ("capstone: the cancellation turned into 'declined'", "ch09-capstone",
     "            if isinstance(err.__cause__, CancelledError):\n                raise\n", "",
     ["completed with approved=False", "Re-raise it"]),
    ("capstone: a failed check fails the payment", "ch09-capstone", "except NexusOperationError as err:",
     "except KeyError as err:", ["A failed operation is an answer", "catch NexusOperationError"]),
    ("capstone: checkTransaction allowed only 10 s", "ch09-capstone", "timedelta(days=7)", "timedelta(seconds=10)",
     ["allowed 10s", "allow it 7 days"]),
    ("capstone: the check abandoned on cancel", "ch09-capstone", "schedule_to_close_timeout=timedelta(days=7))",
     "schedule_to_close_timeout=timedelta(days=7),\n"
     "                cancellation_type=workflow.NexusOperationCancellationType.ABANDON)",
     ["check workflow is RUNNING", "never reached it"]),
    ("profiles: the API key written into the file", "ch10-profiles", 'namespace = "payments.a1b2c"\n',
     'namespace = "payments.a1b2c"\napi_key = "pk-123"\n', ["The file itself holds an API key", "TEMPORAL_API_KEY"]),
    ("profiles: TLS keys the SDK does not know", "ch10-profiles", 'client_cert_path = "/secrets/fraud.pem"',
     'cert_path = "/secrets/fraud.pem"', ["cannot load profile", "unknown field `cert_path`", "client_cert_path"]),
    ("profiles: a Cloud namespace without the account ID", "ch10-profiles", 'namespace = "fraud.a1b2c"',
     'namespace = "fraud"', ["namespace 'fraud'; expected 'fraud.a1b2c'", "account ID"]),
    ("profiles: an API key (so TLS) for the plain course server", "ch10-profiles", 'namespace = "payments"\n"""',
     'namespace = "payments"\napi_key = "x"\n"""', ["Connecting with profile 'lab' failed", "no TLS, no API key"]),
    ("a wrong history answer", "ch08-read-history", '"Q3": "fraud",', '"Q3": "payments",', ["'payments' is not what"]),
]


def _patched(tmp_path, exercise, old: str, new: str):
    source = (ROOT / exercise.solution).read_text()
    assert source.count(old) == 1, f"patch target not found once in {exercise.solution}: {old!r}"
    shutil.copy2(ROOT / "solutions" / "fraud_contract.py", tmp_path / "fraud_contract.py")
    path = tmp_path / (ROOT / exercise.file).name
    path.write_text(source.replace(old, new))
    return path


@pytest.mark.parametrize("case,exercise_id,old,new,words", CASES, ids=[c[0] for c in CASES])
def test_wrong_answer_is_rejected_with_a_helpful_message(tmp_path, manifest, check_server, case, exercise_id,
                                                         old, new, words):
    exercise = manifest.exercise(exercise_id)
    result = run_check_process(exercise, _patched(tmp_path, exercise, old, new), check_server.address)
    assert result.status == "fail", result.text()
    for word in words:
        assert word in result.message, f"{word!r} missing from:\n{result.text()}"
