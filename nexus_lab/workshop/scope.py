"""Learner scoping for workshops: thirty people, one cluster, no collisions.

On a shared cluster every namespace name and every Nexus endpoint name is global. With
``NEXUS_LAB_LEARNER=alice`` the lab prefixes both: ``lab.namespace("payments")`` creates
``alice-payments`` and ``lab.endpoint("fraud-detection", ...)`` registers ``alice-fraud-detection``.
Task queues and workflow IDs live inside namespaces, so they are scoped for free.

Workflow code keeps saying ``endpoint="fraud-detection"``: the lab's workers carry an interceptor
that rewrites the endpoint of every Nexus operation a workflow starts to the learner's own. The
history therefore shows the scoped name, which is the lesson: an endpoint is a cluster-wide entry
in the Nexus Registry, and a caller names it, not a namespace.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from temporalio.worker import (
    Interceptor,
    StartNexusOperationInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from nexus_lab.errors import NexusLabError

_LEARNER = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
UNSCOPED_ENDPOINTS = frozenset({"classroom"})
"""Endpoints every learner shares on purpose (the instructor's classroom service)."""


class ScopeError(NexusLabError, ValueError):
    """The learner name cannot be used in namespace and endpoint names."""


def normalise_learner(name: str) -> str:
    """``"Alice Smith"`` → ``"alice-smith"``; refuses names that cannot prefix a namespace."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    if not _LEARNER.match(slug):
        raise ScopeError(f"Learner name {name!r} must have 2–32 letters, digits or dashes, starting with a letter.")
    return slug


@dataclass(frozen=True)
class Scope:
    """How one learner's names map onto the shared cluster (no learner: names pass unchanged)."""

    learner: str | None = None

    @property
    def prefix(self) -> str:
        return f"{self.learner}-" if self.learner else ""

    def _scoped(self, name: str) -> str:
        if not self.learner or name.startswith(self.prefix):
            return name
        return self.prefix + name

    def namespace(self, name: str) -> str:
        return self._scoped(name)

    def endpoint(self, name: str) -> str:
        return name if name in UNSCOPED_ENDPOINTS else self._scoped(name)

    def unscoped(self, name: str) -> str:
        return name.removeprefix(self.prefix) if self.learner else name

    def describe(self) -> str:
        if not self.learner:
            return ""
        return (f"Learner scope {self.learner!r}: namespaces and endpoints you create are named "
                f"{self.prefix}<name> on the shared cluster; your workflows' Nexus calls are routed "
                "to your own endpoints.")

    def interceptors(self) -> list[Interceptor]:
        return [ScopedEndpoints(self.prefix)] if self.learner else []


def scope_from_environment() -> Scope:
    learner = os.environ.get("NEXUS_LAB_LEARNER", "").strip()
    return Scope(normalise_learner(learner)) if learner else Scope()


class ScopedEndpoints(Interceptor):
    """Worker interceptor: a workflow's ``create_nexus_client(endpoint=...)`` reaches the learner's endpoint."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        prefix = self.prefix

        class _Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(_Outbound(outbound, prefix))

        return _Inbound


class _Outbound(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, prefix: str):
        super().__init__(next)
        self._prefix = prefix

    async def start_nexus_operation(self, input: StartNexusOperationInput[Any, Any]) -> Any:
        if input.endpoint not in UNSCOPED_ENDPOINTS and not input.endpoint.startswith(self._prefix):
            input.endpoint = self._prefix + input.endpoint
        return await super().start_nexus_operation(input)
