"""Chapter 1: the Nexus Registry."""

from __future__ import annotations

from nexus_lab.checker.checks.common import (
    ProbeCaller,
    RefFraudCheckWorkflow,
    RefFraudHandler,
    probe,
    tx,
)
from nexus_lab.checker.context import CALLER_NAMESPACE, ENDPOINT, HANDLER_NAMESPACE, HANDLER_QUEUE, Check
from nexus_lab.registry import list_namespaces


async def check_route_endpoint(c: Check) -> None:
    setup_registry = c.attr("setup_registry", "async def setup_registry(lab)")

    async def missing_namespaces() -> str:
        missing = [n for n in (CALLER_NAMESPACE, HANDLER_NAMESPACE) if n not in await _namespaces(c)]
        return (f"\nThe namespace {' and '.join(map(repr, missing))} does not exist: an endpoint can only route "
                "to a namespace that is there (create it first, with await lab.namespace(...)).") if missing else ""
    async with c.test("setup_registry(lab) runs"):
        await c.call(setup_registry, c.lab, within=5, name="setup_registry(lab)", advice=missing_namespaces)
    async with c.test(f"it creates the namespaces {CALLER_NAMESPACE!r} and {HANDLER_NAMESPACE!r}"):
        existing = await _namespaces(c)
        for name in (CALLER_NAMESPACE, HANDLER_NAMESPACE):
            c.expect(name in existing, f"setup_registry did not create the namespace {name!r} (it made "
                                       f"{', '.join(map(repr, sorted(existing))) or 'none'}): add "
                                       f"await lab.namespace({name!r}).")
    async with c.test(f"the registry has the endpoint {ENDPOINT!r}"):
        wanted = c.lab.scope.endpoint(ENDPOINT)
        found = [e for e in await c.lab.endpoints() if e.name == wanted]
        mine = sorted(c.unscoped(e.name) for e in await c.lab.endpoints() if c.lab.scope.owns(e.name))
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
                      callers=[ProbeCaller], endpoint=False, namespaces=False)
        outcome = await probe(c, "getQuickScore", tx(c, 2_500))
        c.expect(outcome.ok and outcome.result.get("score") == 25,
                 f"Expected the quick score 25 from the Fraud worker; the caller got {outcome.describe()}.")


async def _namespaces(c: Check) -> set[str]:
    """The namespaces this check's scope holds, as the learner named them."""
    return {c.unscoped(n) for n in await list_namespaces(c.lab.client()) if c.lab.scope.owns(n)}
