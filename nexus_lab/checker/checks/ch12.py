"""Chapter 12: the learner's payload codec, on sample payloads and then on both teams' workers (a
Payments probe calling the reference fraud.v1 handler), where the server must see only encoded data."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import TYPE_CHECKING, Any

from nexus_lab.checker.checks.common import Call, ProbeCaller, RefFraudCheckWorkflow, RefFraudHandler, tx
from nexus_lab.checker.context import (
    CALLER_NAMESPACE,
    CALLER_QUEUE,
    ENDPOINT,
    HANDLER_NAMESPACE,
    HANDLER_QUEUE,
    Check,
    learner_location,
)

if TYPE_CHECKING:
    from temporalio.api.common.v1 import Payload
    from temporalio.client import Client

ENCODING = b"binary/zlib"


def _samples() -> list[Payload]:
    from temporalio.api.common.v1 import Payload

    return [
        Payload(metadata={"encoding": b"json/plain"}, data=json.dumps({"id": "T-1", "amount": 2500}).encode()),
        Payload(metadata={"encoding": b"binary/null"}, data=b""),
        Payload(metadata={"encoding": b"json/plain", "messageType": b"fraud.v1.Verdict"},
                data=json.dumps({"reason": "low risk " * 40}).encode()),
    ]


def _show(payload: Payload) -> str:
    meta = {k: v.decode(errors="replace") for k, v in payload.metadata.items()}
    data = payload.data if len(payload.data) <= 24 else payload.data[:24] + b"..."
    return f"Payload(metadata={meta}, data={data!r})"


async def _codec_client(c: Check, namespace: str, codec: Any) -> Client:
    from temporalio.client import Client
    from temporalio.converter import DataConverter

    config = c.lab.client(namespace).config()
    config["data_converter"] = dataclasses.replace(DataConverter.default, payload_codec=codec)
    return Client(**config)


async def check_codec(c: Check) -> None:
    from temporalio.api.common.v1 import Payload
    from temporalio.api.enums.v1 import EventType
    from temporalio.worker import Worker

    codec = c.attr("ZlibCodec", "class ZlibCodec(PayloadCodec)")()
    samples = _samples()

    async with c.test("encode gives one binary/zlib payload per payload, and compresses"):
        encoded = await codec.encode(samples)
        count = len(encoded) if isinstance(encoded, list) else repr(encoded)
        c.expect(isinstance(encoded, list) and len(encoded) == len(samples),
                 f"encode got {len(samples)} payloads and returned {count}: a codec must return exactly one payload "
                 "per payload, in order.")
        for original, out in zip(samples, encoded, strict=True):
            c.expect(isinstance(out, Payload), f"encode returned {type(out).__name__}, not a Payload.")
            c.expect(out.metadata.get("encoding") == ENCODING,
                     f"encode turned {_show(original)} into {_show(out)}: its metadata needs encoding "
                     f"{ENCODING.decode()!r}, or decode (and the other team) cannot tell it is yours.")
            c.expect(out.data != original.data, f"encode left the data of {_show(original)} as it was: it must be "
                                                "the compressed, serialized payload.")
        c.expect(len(encoded[2].data) < len(samples[2].data),
                 f"A repetitive payload of {len(samples[2].data)} bytes became {len(encoded[2].data)} bytes: "
                 "compress it with zlib.compress.")

    async with c.test("decode(encode(payloads)) gives the same payloads back, metadata included"):
        try:
            decoded = await codec.decode(encoded)
        except Exception as err:  # the learner's decode: say what it choked on
            c.fail(f"decode could not read what encode produced: {_error(c, err)}\nencode must compress the whole "
                   "payload (p.SerializeToString()) and decode parse it back with Payload.ParseFromString.")
        c.expect(isinstance(decoded, list) and len(decoded) == len(samples),
                 f"decode got {len(samples)} payloads and returned "
                 f"{len(decoded) if isinstance(decoded, list) else decoded!r}.")
        for index, (original, back) in enumerate(zip(samples, decoded, strict=True)):
            c.expect(back.metadata.get("encoding") != ENCODING,
                     f"decode returned payload #{index + 1} still encoded, {_show(back)}: does it recognise its own "
                     f"payloads by metadata encoding == {ENCODING.decode()!r}?")
            c.expect(back == original, f"Payload #{index + 1} went in as {_show(original)} and came back as "
                                       f"{_show(back)}: serialize the whole payload (metadata and data), and "
                                       "parse it back with Payload.ParseFromString.")

    async with c.test("decode leaves payloads it did not encode unchanged"):
        try:
            plain = await codec.decode(samples)
        except Exception as err:  # the learner's decode on foreign payloads
            c.fail(f"decode raised {_error(c, err)}\non a payload it did not encode ({_show(samples[0])}): leave "
                   "payloads that are not binary/zlib unchanged.")
        c.expect(isinstance(plain, list) and list(plain) == samples,
                 "decode changed payloads that are not binary/zlib (data written before the codec, or by a team "
                 "without it): it must return them as they are.")

    await c.lab.namespace(CALLER_NAMESPACE)
    await c.lab.namespace(HANDLER_NAMESPACE)
    await c.lab.endpoint(ENDPOINT, namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE)
    fraud = await _codec_client(c, HANDLER_NAMESPACE, codec)
    payments = await _codec_client(c, CALLER_NAMESPACE, codec)
    interceptors = c.lab.scope.interceptors()
    async with contextlib.AsyncExitStack() as workers:
        await workers.enter_async_context(Worker(fraud, task_queue=HANDLER_QUEUE, workflows=[RefFraudCheckWorkflow],
                                                 nexus_service_handlers=[RefFraudHandler()], interceptors=interceptors))
        await workers.enter_async_context(Worker(payments, task_queue=CALLER_QUEUE, workflows=[ProbeCaller],
                                                 interceptors=interceptors))
        async with c.test("both teams with the codec: getQuickScore answers through fraud-detection"):
            wid = c.unique("payment")
            transaction = tx(c, 2_500)
            outcome = await payments.execute_workflow(ProbeCaller.run, Call("getQuickScore", transaction), id=wid,
                                                      task_queue=CALLER_QUEUE, execution_timeout=_seconds(6))
            c.expect(outcome.ok and outcome.result.get("score") == 25,
                     f"With your codec on both workers the call gave {outcome.describe()}; expected the score 25.")

        async with c.test("the server stores the operation's input encoded"):
            handle = c.lab.client(CALLER_NAMESPACE).get_workflow_handle(wid)
            inputs = [e.nexus_operation_scheduled_event_attributes.input
                      async for e in handle.fetch_history_events()
                      if e.event_type == EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED]
            c.expect(inputs and inputs[0].metadata.get("encoding") == ENCODING,
                     "The caller's history holds the input as "
                     f"{_show(inputs[0]) if inputs else 'nothing'}: the server must see only binary/zlib payloads.")
            c.expect(transaction["id"].encode() not in inputs[0].data,
                     "The transaction ID is readable in the stored input: the data must be compressed.")


def _error(c: Check, err: Exception) -> str:
    where = learner_location(err, c.learner_file)
    return f"{type(err).__name__}: {err}" + (f"\n  at {where}" if where else "")


def _seconds(value: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=value)


# --- ch12-fraud-worker ---------------------------------------------------------------------------------
async def check_fraud_worker(c: Check) -> None:
    from temporalio.worker import Worker

    from nexus_lab.checker.checks.common import events_text, probe

    make_worker = c.attr("fraud_worker", "def fraud_worker(client) -> Worker")
    c.attr("FraudServiceHandler")
    await c.lab.namespace(CALLER_NAMESPACE)
    await c.lab.namespace(HANDLER_NAMESPACE)
    await c.lab.endpoint(ENDPOINT, namespace=HANDLER_NAMESPACE, task_queue=HANDLER_QUEUE)
    await c.lab.worker(namespace=CALLER_NAMESPACE, task_queue=CALLER_QUEUE, workflows=[ProbeCaller])

    async with c.test("fraud_worker(client) returns a Worker on the endpoint's task queue"):
        worker = make_worker(c.lab.client(HANDLER_NAMESPACE))
        c.expect(isinstance(worker, Worker),
                 f"fraud_worker returned {type(worker).__name__}; it must return the Worker itself (the process "
                 "runs it), not run it or return something else.")
        c.expect(worker.task_queue == HANDLER_QUEUE,
                 f"fraud_worker's Worker polls task queue {worker.task_queue!r}; the endpoint {ENDPOINT!r} routes "
                 f"to {HANDLER_QUEUE!r} (HANDLER_TASK_QUEUE).")

    async with worker:
        for amount, country, expected in [(2_500, "DE", 25), (99_000, "DE", 90), (10, "XX", 100)]:
            async with c.test(f"getQuickScore: {amount} € in {country} scores {expected}, synchronously"):
                wid = c.unique("payment")
                transaction = tx(c, amount, country)
                outcome = await probe(c, "getQuickScore", transaction, id=wid, timeout=6, op_timeout=4)
                if not outcome.ok and "timed out" in outcome.describe().lower():
                    c.fail("Nobody answered getQuickScore on fraud-tq: does the Worker serve the handler "
                           "(nexus_service_handlers=[FraudServiceHandler()])?")
                c.expect(outcome.ok, f"The call failed: {outcome.describe()}.")
                c.expect(outcome.result == {"transaction_id": transaction["id"], "score": expected},
                         f"getQuickScore for {amount} € in {country}: expected QuickScore({transaction['id']!r}, "
                         f"{expected}); got {outcome.result!r}.")
                events = (await c.caller_history(wid)).nexus_event_types()
                c.expect(events == ["NexusOperationScheduled", "NexusOperationCompleted"],
                         f"getQuickScore must be synchronous; the caller's history shows {events_text(events)}.")

        async with c.test("checkTransaction starts FraudCheckWorkflow as fraud-check-<id> and returns its verdict"):
            wid = c.unique("payment")
            transaction = tx(c, 40)
            outcome = await probe(c, "checkTransaction", transaction, id=wid, timeout=6, op_timeout=4)
            events = (await c.caller_history(wid)).nexus_event_types()
            c.expect("NexusOperationStarted" in events,
                     f"checkTransaction must be asynchronous (a workflow-run operation); the caller's history shows "
                     f"{events_text(events)}.")
            business_id = f"fraud-check-{transaction['id']}"
            try:
                described = await c.lab.describe(business_id, namespace=HANDLER_NAMESPACE)
            except Exception:  # not found: the handler used another workflow ID
                c.fail(f"There is no workflow {business_id!r} in the fraud namespace: start FraudCheckWorkflow "
                       "with the business ID f\"fraud-check-{tx.id}\".")
            c.expect(not described.never_picked_up,
                     f"{business_id} was started but no worker ever ran it: register FraudCheckWorkflow in the "
                     "Worker (workflows=[FraudCheckWorkflow]).")
            c.expect(outcome.ok and outcome.result.get("approved") is True,
                     f"Expected an approved Verdict for 40 €; got {outcome.describe()}.")


# --- ch12-standalone ---------------------------------------------------------------------------------
async def check_standalone(c: Check) -> None:
    from datetime import timedelta

    quick_score_now = c.attr("quick_score_now", "async def quick_score_now(client, endpoint, tx)")
    transaction_type = c.attr("Transaction", "imported from fraud_contract")
    await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow])
    endpoint = c.lab.scope.endpoint(ENDPOINT)
    payments = c.lab.client(CALLER_NAMESPACE)
    transaction = transaction_type(c.unique("T"), 2_500, "DE")

    async with c.test("quick_score_now returns the QuickScore (25 for 2 500 €)"):
        try:
            score = await quick_score_now(payments, endpoint, transaction)
        except Exception as err:  # NexusOperationFailureError and friends: explain in the learner's terms
            if type(err).__name__ not in ("NexusOperationFailureError", "RPCError"):  # RPCError: unknown endpoint
                raise
            c.fail(c.unscoped(f"The standalone operation failed ({' ← '.join(_causes(err))}): does it go through "
                              f"the endpoint quick_score_now was given?\n  at {learner_location(err, c.learner_file)}"))
        c.expect(getattr(score, "score", None) == 25 and getattr(score, "transaction_id", None) == transaction.id,
                 f"quick_score_now returned {score!r}; expected QuickScore({transaction.id!r}, 25), the result of "
                 "getQuickScore (await it: execute_operation returns the result, start_operation a handle).")

    operation_id = f"quick-score-{transaction.id}"
    async with c.test(f"the server ran a standalone operation {operation_id}"):
        try:
            described = await payments.get_nexus_operation_handle(operation_id).describe()
        except Exception:  # not found: the learner used another ID (or no standalone operation at all)
            c.fail(f"The payments namespace has no standalone Nexus operation with the ID {operation_id!r}: start "
                   "it with client.create_nexus_client(...) and id=f\"quick-score-{tx.id}\".")
        c.expect(described.endpoint == endpoint,
                 c.unscoped(f"Operation {operation_id} went through the endpoint {described.endpoint!r}; call the "
                            "endpoint quick_score_now was given (its `endpoint` argument)."))
        c.expect(described.operation == "getQuickScore",
                 f"Operation {operation_id} called {described.operation!r}; expected 'getQuickScore'.")

    async with c.test("it is allowed 10 seconds and carries the summary"):
        timeout = described.schedule_to_close_timeout
        c.expect(timeout == timedelta(seconds=10),
                 f"Operation {operation_id} has schedule_to_close_timeout {timeout}; the checkout page waits "
                 "10 seconds at most (timedelta(seconds=10)); without one the server allows its maximum.")
        summary = await described.static_summary()
        wanted = f"quick score of {transaction.id}"
        c.expect(summary == wanted, f"Operation {operation_id} has the summary {summary!r}; expected {wanted!r}.")


def _causes(err: BaseException) -> list[str]:
    chain: list[str] = []
    cause: BaseException | None = err
    while cause is not None:
        chain.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__
    return chain


# --- ch12-cli-setup ----------------------------------------------------------------------------------
async def check_cli_setup(c: Check) -> None:
    import asyncio
    import os

    from nexus_lab.config import temporal_binary
    from nexus_lab.registry import find_endpoint, list_namespaces

    make = c.attr("setup_commands", "def setup_commands(address, caller_namespace, handler_namespace, endpoint, "
                                    "task_queue)")
    caller, handler = c.lab.namespace_name(CALLER_NAMESPACE), c.lab.namespace_name(HANDLER_NAMESPACE)
    endpoint = c.lab.scope.endpoint(ENDPOINT)
    async with c.test("setup_commands returns temporal commands as argument lists"):
        commands = make(c.lab.address, caller, handler, endpoint, HANDLER_QUEUE)
        c.expect(isinstance(commands, list) and commands and all(isinstance(cmd, list) and cmd for cmd in commands),
                 f"setup_commands returned {c.unscoped(repr(commands))}; expected a list of commands, each a list "
                 "such as ['temporal', 'operator', 'namespace', 'create', ...].")
        bad = [cmd for cmd in commands if cmd[0] != "temporal"]
        c.expect(not bad, f"{bad[0] if bad else ''} does not start with 'temporal'.")

    async with c.test("every command succeeds against the given server"):
        # a closed port as the CLI's default: a command without --address fails instead of finding another server
        env = {**os.environ, "TEMPORAL_ADDRESS": "127.0.0.1:1"}
        env.pop("TEMPORAL_NAMESPACE", None)
        for cmd in commands:
            process = await asyncio.create_subprocess_exec(temporal_binary(), *cmd[1:], env=env,
                                                           stdout=asyncio.subprocess.PIPE,
                                                           stderr=asyncio.subprocess.STDOUT)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=15)
            text = c.unscoped(output.decode(errors="replace").strip().splitlines()[-1] if output.strip() else "")
            c.expect(process.returncode == 0,
                     f"`{c.unscoped(' '.join(cmd))}` failed: {text}"
                     + ("\nEvery command needs --address (the CLI's default is another server)."
                        if "--address" not in cmd else ""))

    async with c.test("both namespaces exist, and the endpoint routes to the handler's namespace and task queue"):
        names = await list_namespaces(c.lab.client())
        for wanted, role in ((caller, "caller"), (handler, "handler")):
            c.expect(wanted in names, f"No namespace {c.unscoped(wanted)!r} (the {role}'s) after your commands: "
                                      "create it with `temporal operator namespace create --namespace ...`.")
        found = await find_endpoint(c.lab.client(), endpoint)
        if found is None:
            c.fail(f"No endpoint {ENDPOINT!r} after your commands: create it with `temporal operator nexus endpoint "
                   "create --name ...`.")
            return
        c.expect(found.namespace == handler and found.task_queue == HANDLER_QUEUE,
                 c.unscoped(f"Endpoint {ENDPOINT!r} routes to {found.namespace}/{found.task_queue}; it must route "
                            f"to the handler's side, {handler}/{HANDLER_QUEUE}."))
