"""Namespaces and the Nexus Registry, made idempotent for notebooks.

A cell that creates a namespace or an endpoint is run again and again by learners. The server
refuses a second endpoint with the same name (``ALREADY_EXISTS``), so every call here looks first,
then creates, updates or leaves alone, and says which it did.
"""

from __future__ import annotations

import asyncio
import functools
import html
import time
from dataclasses import dataclass, replace

from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import NamespaceState
from temporalio.api.nexus.v1 import Endpoint, EndpointSpec, EndpointTarget
from temporalio.api.operatorservice.v1 import (
    CreateNexusEndpointRequest,
    DeleteNexusEndpointRequest,
    ListNexusEndpointsRequest,
    UpdateNexusEndpointRequest,
)
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    GetWorkflowExecutionHistoryRequest,
    ListNamespacesRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from nexus_lab.connection import ask_again_if_transient as _ask
from nexus_lab.errors import NexusLabError

NAMESPACE_VISIBLE_WAIT_S = 12.0
"""How long to retry an endpoint whose target namespace the server has not yet seen (its
namespace cache refreshes every 10 s by default; the embedded server is told 100 ms)."""


class RegistryError(NexusLabError, RuntimeError):
    """A namespace or endpoint could not be created, changed or removed (plain-words message)."""


@dataclass(frozen=True, repr=False)
class EndpointInfo:
    """One Nexus endpoint as a learner thinks of it: a name routed to a namespace + task queue."""

    name: str
    namespace: str
    task_queue: str
    description: str
    id: str = ""
    version: int = 0
    change: str = ""  # "created", "updated" or "unchanged" after lab.endpoint(...)

    def __str__(self) -> str:
        verb = f" ({self.change})" if self.change else ""
        return f"endpoint {self.name} -> {self.namespace}/{self.task_queue}{verb}"

    __repr__ = __str__


@dataclass(frozen=True, repr=False)
class NamespaceInfo:
    name: str
    change: str  # "created" or "exists"

    def __str__(self) -> str:
        return f"namespace {self.name} ({self.change})"

    __repr__ = __str__


class EndpointTable(list):
    """The Nexus Registry as a table: a plain-text form for terminals/nbval and HTML for JupyterLab."""

    COLUMNS = ("name", "namespace", "task_queue", "description")
    HEADERS = ("Endpoint", "Target namespace", "Task queue", "Description")

    def rows(self) -> list[tuple[str, ...]]:
        return [tuple(getattr(e, c) for c in self.COLUMNS) for e in self]

    def __str__(self) -> str:
        if not self:
            return "(the Nexus Registry has no endpoints)"
        # A cell may span lines (markdown descriptions): each row is as tall as its tallest cell.
        rows = [[cell.splitlines() or [""] for cell in row] for row in [self.HEADERS, *self.rows()]]
        widths = [max(len(line) for r in rows for line in r[i]) for i in range(len(self.HEADERS))]
        lines = ["  ".join((cell[n] if n < len(cell) else "").ljust(w)
                           for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows for n in range(max(len(cell) for cell in row))]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in self.HEADERS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self.rows()
        )
        if not self:
            body = f'<tr><td colspan="{len(self.HEADERS)}"><i>no endpoints</i></td></tr>'
        return f'<table class="nexus-lab-registry"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


_converter = DataConverter.default.payload_converter


def _describe_text(endpoint: Endpoint) -> str:
    payload = endpoint.spec.description
    if not payload.data:
        return ""
    try:
        return str(_converter.from_payload(payload))
    except Exception:
        return payload.data.decode(errors="replace")


def _info(endpoint: Endpoint, change: str = "") -> EndpointInfo:
    target = endpoint.spec.target
    if target.HasField("worker"):
        namespace, task_queue = target.worker.namespace, target.worker.task_queue
    else:  # an external (URL) target: not used by the course, still listed honestly
        namespace, task_queue = "(external)", target.external.url
    return EndpointInfo(
        name=endpoint.spec.name, namespace=namespace, task_queue=task_queue,
        description=_describe_text(endpoint), id=endpoint.id, version=endpoint.version, change=change,
    )


def _spec(name: str, namespace: str, task_queue: str, description: str) -> EndpointSpec:
    spec = EndpointSpec(
        name=name,
        target=EndpointTarget(worker=EndpointTarget.Worker(namespace=namespace, task_queue=task_queue)),
    )
    if description:
        spec.description.CopyFrom(_converter.to_payload(description))
    return spec


def _explain(err: RPCError, what: str) -> RegistryError:
    if err.status == RPCStatusCode.PERMISSION_DENIED:
        hint = (" This cluster does not let this identity change its registry; on Temporal Cloud, "
                "create endpoints with `tcld nexus endpoint create` or the Cloud UI.")
    elif err.status == RPCStatusCode.UNIMPLEMENTED:
        hint = " This service does not offer the operator API (Temporal Cloud manages endpoints elsewhere)."
    else:
        hint = ""
    return RegistryError(f"Could not {what}: {err.message}.{hint}")


async def ensure_namespace(client: Client, name: str, retention_days: float = 1) -> NamespaceInfo:
    """Create ``name`` unless it exists; usable at once on the dev server."""
    try:
        await _ask(functools.partial(client.workflow_service.describe_namespace,
                                     DescribeNamespaceRequest(namespace=name)))
        return NamespaceInfo(name, "exists")
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise _explain(err, f"look up namespace {name!r}") from None
    try:
        await _ask(functools.partial(client.workflow_service.register_namespace, RegisterNamespaceRequest(
            namespace=name,
            workflow_execution_retention_period=Duration(seconds=round(retention_days * 86400)),
        )))
    except RPCError as err:
        if err.status == RPCStatusCode.ALREADY_EXISTS and await _namespace_exists(client, name):
            return NamespaceInfo(name, "exists")  # another kernel won the race
        if err.status == RPCStatusCode.ALREADY_EXISTS:  # said of a namespace it cannot show: not stored
            raise RegistryError(f"Could not create namespace {name!r}: the server failed to store it "
                                "(is its disk full? see the server log).") from None
        raise _explain(err, f"create namespace {name!r}") from None
    await _wait_until_usable(client, name)
    return NamespaceInfo(name, "created")


async def _namespace_exists(client: Client, name: str) -> bool:
    """Whether the server can describe ``name``: the only proof that it was stored (a server whose
    database cannot be written answers ALREADY_EXISTS for a namespace it never created)."""
    try:
        await _ask(functools.partial(client.workflow_service.describe_namespace,
                                     DescribeNamespaceRequest(namespace=name)))
    except RPCError:
        return False
    return True


async def _wait_until_usable(client: Client, name: str) -> None:
    """A new namespace is refused ("Namespace ... is not found") until the frontend's namespace
    cache refreshes; the learner's next cell starts a workflow in it at once, so wait here."""
    # The probe's workflow ID must not contain "namespace": the "workflow not found for ID: ..."
    # reply quotes it, and the check below looks for "namespace" and "not found".
    probe = GetWorkflowExecutionHistoryRequest(
        namespace=name, execution=WorkflowExecution(workflow_id="nexus-lab-visibility-probe"))
    deadline = time.monotonic() + NAMESPACE_VISIBLE_WAIT_S
    while True:
        try:
            await _ask(functools.partial(client.workflow_service.get_workflow_execution_history, probe))
            return
        except RPCError as err:
            unknown_namespace = err.message.lower().startswith("namespace") and "not found" in err.message.lower()
            if not unknown_namespace or time.monotonic() > deadline:
                return
        await asyncio.sleep(0.05)


async def list_namespaces(client: Client, *, registered_only: bool = True) -> list[str]:
    """Namespace names on the cluster (by default leaving out ones being deleted)."""
    names, token = [], b""
    while True:
        request = ListNamespacesRequest(page_size=1000, next_page_token=token)
        response = await _ask(functools.partial(client.workflow_service.list_namespaces, request))
        names += [n.namespace_info.name for n in response.namespaces
                  if not registered_only or n.namespace_info.state == NamespaceState.NAMESPACE_STATE_REGISTERED]
        token = response.next_page_token
        if not token:
            return names


async def find_endpoint(client: Client, name: str) -> EndpointInfo | None:
    response = await _ask(functools.partial(client.operator_service.list_nexus_endpoints,
                                            ListNexusEndpointsRequest(name=name)))
    for endpoint in response.endpoints:
        if endpoint.spec.name == name:
            return _info(endpoint)
    return None


async def list_endpoints(client: Client) -> EndpointTable:
    table = EndpointTable()
    token = b""
    while True:
        response = await _ask(functools.partial(client.operator_service.list_nexus_endpoints,
                                                ListNexusEndpointsRequest(page_size=100, next_page_token=token)))
        table.extend(_info(e) for e in response.endpoints)
        token = response.next_page_token
        if not token:
            break
    table.sort(key=lambda e: e.name)
    return table


async def ensure_endpoint(client: Client, name: str, *, namespace: str, task_queue: str,
                          description: str = "") -> EndpointInfo:
    """Make endpoint ``name`` route to ``namespace``/``task_queue``: create, update or leave as is."""
    spec = _spec(name, namespace, task_queue, description)
    deadline = time.monotonic() + NAMESPACE_VISIBLE_WAIT_S
    while True:
        try:
            return await _create_or_update(client, spec)
        except RPCError as err:
            # ALREADY_EXISTS / a version conflict: another kernel changed it between look and act.
            # "Namespace ... is not found": the namespace was just created and the registry's
            # namespace cache has not seen it yet.
            racing = err.status in (RPCStatusCode.ALREADY_EXISTS, RPCStatusCode.FAILED_PRECONDITION)
            if racing and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                continue
            if err.status in (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.FAILED_PRECONDITION):
                raise RegistryError(f"Endpoint {name!r} was refused: {err.message}") from None
            raise _explain(err, f"create or update endpoint {name!r}") from None


async def _create_or_update(client: Client, spec: EndpointSpec) -> EndpointInfo:
    existing = await find_endpoint(client, spec.name)
    if existing is None:
        created = await _ask(functools.partial(client.operator_service.create_nexus_endpoint,
                                                      CreateNexusEndpointRequest(spec=spec)))
        return _info(created.endpoint, "created")
    wanted = _info(Endpoint(spec=spec))
    if (existing.namespace, existing.task_queue, existing.description) == (
            wanted.namespace, wanted.task_queue, wanted.description):
        return replace(existing, change="unchanged")
    response = await _ask(functools.partial(client.operator_service.update_nexus_endpoint,
                                            UpdateNexusEndpointRequest(id=existing.id, version=existing.version,
                                                                       spec=spec)))
    return _info(response.endpoint, "updated")


async def delete_endpoint(client: Client, name: str) -> bool:
    """Remove endpoint ``name``; ``False`` if there was none."""
    existing = await find_endpoint(client, name)
    if existing is None:
        return False
    try:
        await _ask(functools.partial(client.operator_service.delete_nexus_endpoint,
                                     DeleteNexusEndpointRequest(id=existing.id, version=existing.version)))
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise _explain(err, f"delete endpoint {name!r}") from None
    return True
