"""Chapter 1: the Nexus Registry."""

from __future__ import annotations

import asyncio

from nexus_lab.checker.checks.common import (
    ProbeCaller,
    RefFraudCheckWorkflow,
    RefFraudHandler,
    probe,
    tx,
)
from nexus_lab.checker.context import ENDPOINT, HANDLER_NAMESPACE, HANDLER_QUEUE, Check


async def check_route_endpoint(c: Check) -> None:
    setup_registry = c.attr("setup_registry", "async def setup_registry(lab)")
    async with c.test("setup_registry(lab) runs"):
        await asyncio.wait_for(setup_registry(c.lab), timeout=5)
    async with c.test(f"the registry has the endpoint {ENDPOINT!r}"):
        wanted = c.lab.scope.endpoint(ENDPOINT)
        found = [e for e in await c.lab.endpoints() if e.name == wanted]
        mine = sorted(c.unscoped(e.name) for e in await c.lab.endpoints() if e.name.startswith(c.lab.scope.prefix))
        c.expect(found, f"Expected an endpoint named {ENDPOINT!r}; setup_registry created "
                        f"{', '.join(map(repr, mine)) or 'none'}.")
    endpoint = found[0]
    async with c.test(f"it routes to namespace {HANDLER_NAMESPACE!r}, task queue {HANDLER_QUEUE!r}"):
        namespace = c.unscoped(endpoint.namespace)
        c.expect(namespace == HANDLER_NAMESPACE,
                 f"The endpoint routes to namespace {namespace!r}, but the Fraud worker runs in "
                 f"{HANDLER_NAMESPACE!r}: an endpoint points at the *handler's* namespace.")
        c.expect(endpoint.task_queue == HANDLER_QUEUE,
                 f"The endpoint routes to task queue {endpoint.task_queue!r}, but the Fraud worker polls "
                 f"{HANDLER_QUEUE!r}: Nexus tasks would wait there with nobody to pick them up.")
    async with c.test("a Payments workflow reaches the Fraud worker through it"):
        await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow],
                      callers=[ProbeCaller], endpoint=False)
        outcome = await probe(c, "getQuickScore", tx(c, 2_500))
        c.expect(outcome.ok and outcome.result.get("score") == 25,
                 f"Expected the quick score 25 from the Fraud worker; the caller got {outcome.describe()}.")
