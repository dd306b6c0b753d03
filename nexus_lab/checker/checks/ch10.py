"""Chapter 10: envconfig profiles, loaded exactly as the SDK loads them (strictly) and, for the
course's own server, used to connect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexus_lab.checker.context import Check

CLOUD = {
    "payments-cloud": ("payments.a1b2c.tmprl.cloud:7233", "payments.a1b2c"),
    "fraud-cloud": ("fraud.a1b2c.tmprl.cloud:7233", "fraud.a1b2c"),
}
CERT, KEY = Path("/secrets/fraud.pem"), Path("/secrets/fraud.key")
TEST_KEY = "test-key-from-the-environment"


def _profile(c: Check, text: str, name: str, **options: Any) -> Any:
    from temporalio.envconfig import ClientConfigProfile

    try:
        return ClientConfigProfile.load(profile=name, config_source=text.encode(), config_file_strict=True, **options)
    except Exception as err:
        if "not found" in str(err):
            c.fail(f"There is no profile {name!r}: add a [profile.{name}] table.")
        c.fail(f"The SDK cannot load profile {name!r}: {err}")


def _expect_place(c: Check, profile: Any, name: str) -> None:
    address, namespace = CLOUD[name]
    c.expect(profile.address == address, f"Profile {name!r} has address {profile.address!r}; expected {address!r}.")
    c.expect(profile.namespace == namespace,
             f"Profile {name!r} has namespace {profile.namespace!r}; expected {namespace!r} (a Cloud namespace's "
             "name carries the account ID).")


async def check_profiles(c: Check) -> None:
    make = c.attr("temporal_toml", "def temporal_toml(lab_address: str) -> str")
    address = c.lab.address
    async with c.test("temporal_toml(address) returns TOML text"):
        text = make(address)
        c.expect(isinstance(text, str) and text.strip(), f"temporal_toml returned {text!r}; expected TOML text.")

    async with c.test("profile 'lab' connects to the course's server"):
        lab = _profile(c, text, "lab", disable_env=True)
        settings = lab.to_client_connect_config()
        c.expect(settings.get("target_host") == address and settings.get("namespace") == "payments",
                 f"Profile 'lab' gives address {settings.get('target_host')!r} and namespace "
                 f"{settings.get('namespace')!r}; expected {address!r} and 'payments'.")
        from nexus_lab import workshop_mode

        if not workshop_mode():  # the embedded server: really connect (a workshop room may need credentials)
            from nexus_lab.connection import LabConnectionError, connect_client

            target = settings.pop("target_host")
            try:
                await connect_client(target, timeout=5, **settings)
            except LabConnectionError as err:
                c.fail(f"Connecting with profile 'lab' failed: {err}. The course's server is plain (no TLS, no "
                       "API key): the lab profile needs only address and namespace.")

    async with c.test("profile 'payments-cloud' takes its API key from TEMPORAL_API_KEY, not from the file"):
        from_file = _profile(c, text, "payments-cloud", disable_env=True)
        _expect_place(c, from_file, "payments-cloud")
        c.expect(from_file.api_key is None,
                 "The file itself holds an API key: whoever reads the file (a repository, a backup, a screen share) "
                 "can act as Payments. Leave api_key out and let TEMPORAL_API_KEY supply it.")
        with_env = _profile(c, text, "payments-cloud", override_env_vars={"TEMPORAL_API_KEY": TEST_KEY})
        settings = with_env.to_client_connect_config()
        c.expect(settings.get("api_key") == TEST_KEY and settings.get("tls"),
                 "With TEMPORAL_API_KEY set, the profile should connect with that key over TLS; the SDK builds "
                 f"{sorted(k for k in settings if k != 'api_key')} "
                 f"({'with' if settings.get('api_key') else 'without'} the key, tls={bool(settings.get('tls'))}).")

    async with c.test("profile 'fraud-cloud' uses mTLS with the Fraud team's certificate"):
        fraud = _profile(c, text, "fraud-cloud", disable_env=True)
        _expect_place(c, fraud, "fraud-cloud")
        tls = fraud.tls
        c.expect(tls is not None and tls.client_cert is not None and tls.client_private_key is not None,
                 "Profile 'fraud-cloud' has no client certificate: add a [profile.fraud-cloud.tls] table with "
                 "client_cert_path and client_key_path.")
        c.expect((tls.client_cert, tls.client_private_key) == (CERT, KEY),
                 f"The certificate and key are {tls.client_cert!s} and {tls.client_private_key!s}; expected "
                 f"{CERT} and {KEY}.")
        c.expect(fraud.api_key is None, "Profile 'fraud-cloud' also sets an API key; this namespace uses mTLS only.")


# --- ch10-fail-fast: schedule_to_start_timeout, enforced by the server ---------------------------------
async def _first_event(c: Check, workflow_id: str, event_type: int) -> Any:
    """The first event of ``event_type`` (an ``EventType`` value) in the caller's history, or None."""
    return next((e for e in (await c.caller_history(workflow_id)).raw if e.event_type == event_type), None)


async def _scheduled_timeouts(c: Check, workflow_id: str) -> tuple[Any, Any]:
    """(schedule_to_start, schedule_to_close) of the first Nexus operation in the caller's history."""
    from temporalio.api.enums.v1 import EventType

    event = await _first_event(c, workflow_id, EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED)
    if event is None:
        return None, None
    a = event.nexus_operation_scheduled_event_attributes
    return (a.schedule_to_start_timeout.ToTimedelta() if a.HasField("schedule_to_start_timeout") else None,
            a.schedule_to_close_timeout.ToTimedelta() if a.HasField("schedule_to_close_timeout") else None)


async def _timed_out_on(c: Check, workflow_id: str) -> str | None:
    """Which limit of the caller's first Nexus operation ran out (``SCHEDULE_TO_START``, ...), as the
    server recorded it: the judge of "failed fast" that a busy machine's clock cannot blur."""
    from temporalio.api.enums.v1 import EventType

    from nexus_lab.history import timeout_kind

    event = await _first_event(c, workflow_id, EventType.EVENT_TYPE_NEXUS_OPERATION_TIMED_OUT)
    return timeout_kind(event.nexus_operation_timed_out_event_attributes.failure) if event is not None else None


async def check_fail_fast(c: Check) -> None:
    from datetime import timedelta

    from temporalio.client import WorkflowFailureError

    from nexus_lab.checker.checks.common import (
        ProbeCaller,
        RefFraudCheckWorkflow,
        RefFraudHandler,
        learner_transaction,
        probe,
    )
    from nexus_lab.checker.context import HANDLER_NAMESPACE, HANDLER_QUEUE

    workflow_cls = c.attr("PaymentWorkflow")
    await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow],
                  callers=[workflow_cls, ProbeCaller])

    async def fraud_worker_polling() -> None:
        """One call without a start limit, so the 2 s limit below measures no worker start-up."""
        await probe(c, "getQuickScore", {"id": c.unique("warm-up"), "amount": 1, "country": "DE"}, timeout=20)

    async def run_with_worker(amount: int) -> tuple[Any, str]:
        """Run a payment while the Fraud worker is up; once more (up to three times) when a busy machine made
        the operation miss its 2 s start limit anyway (the history says NexusOperationTimedOut)."""
        for _ in range(3):
            await fraud_worker_polling()
            handle = await c.start_caller(workflow_cls.run, learner_transaction(c, amount), timeout=8)
            try:
                result: Any = await handle.result()
            except WorkflowFailureError as err:
                result = err
            if "NexusOperationTimedOut" not in (await c.caller_history(handle.id)).nexus_event_types():
                break
        return result, handle.id

    async with c.test("with a Fraud worker: 'score 25' for 2 500 €, allowed 10 s, 2 s to be picked up"):
        result, workflow_id = await run_with_worker(2_500)
        to_start, to_close = await _scheduled_timeouts(c, workflow_id)  # as configured: no clock involved
        c.expect(to_close == timedelta(seconds=10),
                 f"getQuickScore is allowed {to_close or 'no schedule_to_close_timeout'} in all; expected 10 s.")
        c.expect(to_start == timedelta(seconds=2),
                 f"getQuickScore may wait {to_start or 'without limit (no schedule_to_start_timeout)'} for a Fraud "
                 "worker; expected schedule_to_start_timeout=timedelta(seconds=2).")
        if isinstance(result, Exception):
            raise result
        c.expect(result == "score 25", f"PaymentWorkflow returned {result!r}; expected 'score 25'.")

    await c.lab.stop_worker(namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE)
    async with c.test("no Fraud worker: 'manual review' once the 2 s to be picked up have passed"):
        workflow_id = c.unique("payment")
        try:
            result = await c.run_caller(workflow_cls.run, learner_transaction(c, 2_500), timeout=14, id=workflow_id)
        except WorkflowFailureError as err:
            c.fail(f"With the Fraud workers down the payment failed ({type(err.cause).__name__} ← "
                   f"{type(err.cause.__cause__).__name__}: {err.cause.__cause__}); a timeout is an outage: "
                   "return 'manual review' when err.__cause__ is a TimeoutError.")
        c.expect(result == "manual review", f"With the Fraud workers down PaymentWorkflow returned {result!r}; "
                                            "expected 'manual review'.")
        limit = await _timed_out_on(c, workflow_id)
        c.expect(limit == "SCHEDULE_TO_START",
                 f"'manual review' came when the operation's {limit or 'unknown'} limit ran out: the checkout waited "
                 "out a longer timeout. schedule_to_start_timeout=timedelta(seconds=2) ends it after 2 s.")

    await c.lab.worker(namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE, nexus_services=[RefFraudHandler()],
                       workflows=[RefFraudCheckWorkflow])
    async with c.test("a rejected request (BAD_REQUEST) fails the payment"):
        result, workflow_id = await run_with_worker(-5)
        if isinstance(result, WorkflowFailureError):
            return
        events = " → ".join((await c.caller_history(workflow_id)).nexus_event_types())
        c.fail(f"The Fraud team rejected an amount of -5 € (HandlerError BAD_REQUEST; the history shows {events}), "
               f"and PaymentWorkflow returned {result!r}. Only a timeout means the Fraud team is unreachable: "
               "re-raise every other error.")
