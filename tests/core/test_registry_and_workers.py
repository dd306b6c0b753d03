"""Registry calls are idempotent; background workers replace each other and report crashes."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.api.operatorservice.v1 import CreateNexusEndpointRequest
from temporalio.service import RPCError

import nexus_lab
from nexus_lab import registry

from .story import FraudCheckWorkflow, FraudServiceHandler, PaymentWorkflow


async def test_namespace_twice_creates_once(lab, unique):
    first = await lab.namespace(f"ns-{unique}")
    second = await lab.namespace(f"ns-{unique}")
    assert (first.change, second.change) == ("created", "exists")


async def test_endpoint_created_unchanged_updated_deleted(lab, unique):
    await lab.namespace(f"fraud-{unique}")
    name = f"ep-{unique}"
    created = await lab.endpoint(name, namespace=f"fraud-{unique}", task_queue="tq-a", description="Fraud team")
    again = await lab.endpoint(name, namespace=f"fraud-{unique}", task_queue="tq-a", description="Fraud team")
    moved = await lab.endpoint(name, namespace=f"fraud-{unique}", task_queue="tq-b", description="Fraud team")
    assert (created.change, again.change, moved.change) == ("created", "unchanged", "updated")
    assert created.id == again.id == moved.id
    table = await lab.endpoints()
    row = next(e for e in table if e.name == name)
    assert (row.namespace, row.task_queue, row.description) == (f"fraud-{unique}", "tq-b", "Fraud team")
    assert name in str(table) and "Target namespace" in str(table)
    assert f"<td>{name}</td>" in table._repr_html_()
    assert await lab.delete_endpoint(name) is True
    assert await lab.delete_endpoint(name) is False
    assert name not in [e.name for e in await lab.endpoints()]


async def test_server_itself_refuses_duplicate_endpoint_names(lab, unique):
    """The reason the lab looks before it creates: the registry raises on a duplicate name."""
    await lab.namespace(f"dup-{unique}")
    await lab.endpoint(f"dup-{unique}", namespace=f"dup-{unique}", task_queue="tq")
    spec = registry._spec(f"dup-{unique}", f"dup-{unique}", "tq", "")
    with pytest.raises(RPCError, match="already"):
        await lab.client().operator_service.create_nexus_endpoint(CreateNexusEndpointRequest(spec=spec))


async def test_endpoint_to_missing_namespace_is_explained(lab, unique, monkeypatch):
    monkeypatch.setattr(registry, "NAMESPACE_VISIBLE_WAIT_S", 0.3)
    with pytest.raises(nexus_lab.RegistryError, match=f"no-such-ns-{unique}"):
        await lab.endpoint(f"lost-{unique}", namespace=f"no-such-ns-{unique}", task_queue="tq")


async def test_second_worker_on_same_queue_replaces_first(lab, unique):
    await lab.namespace("payments")
    first = await lab.worker(namespace="payments", task_queue=f"tq-{unique}", workflows=[PaymentWorkflow])
    second = await lab.worker(namespace="payments", task_queue=f"tq-{unique}", workflows=[PaymentWorkflow])
    assert first.task.done() and not second.task.done()
    assert [w for w in lab.workers if w.task_queue == f"tq-{unique}"] == [second]
    assert await lab.stop_worker(namespace="payments", task_queue=f"tq-{unique}") is True
    assert second.task.done()


async def test_worker_setup_mistakes_name_the_argument(lab, unique):
    with pytest.raises(nexus_lab.WorkerSetupError, match=r"FraudServiceHandler\(\)"):
        await lab.worker(namespace="default", task_queue=f"tq-{unique}", nexus_services=[FraudServiceHandler])
    with pytest.raises(nexus_lab.WorkerSetupError, match=r"@workflow\.defn"):
        await lab.worker(namespace="default", task_queue=f"tq-{unique}", workflows=[dict])
    with pytest.raises(nexus_lab.WorkerSetupError, match="at least one"):
        await lab.worker(namespace="default", task_queue=f"tq-{unique}")
    with pytest.raises(nexus_lab.WorkerSetupError, match="take lists"):
        await lab.worker(namespace="default", task_queue=f"tq-{unique}", workflows=FraudCheckWorkflow)


async def test_crashed_worker_is_reported_by_the_next_lab_call(lab, unique):
    await lab.worker(namespace=f"missing-{unique}", task_queue="tq", workflows=[FraudCheckWorkflow])
    for _ in range(100):  # the worker fails when it first polls a namespace that does not exist
        await asyncio.sleep(0.05)
        if lab.workers._crashes:
            break
    with pytest.raises(nexus_lab.WorkerCrashedError, match=f"missing-{unique}/tq"):
        await lab.endpoints()
    await lab.endpoints()  # reported once, then the lab is usable again


async def test_embedded_namespaces_keep_finished_runs_for_a_session_not_a_day(lab, unique):
    """The embedded server holds every run it keeps in memory: a lab's namespaces expire finished
    runs after EMBEDDED_RETENTION_DAYS (4 h), which the server accepts below its usual 1-day minimum."""
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

    from nexus_lab.server import EMBEDDED_RETENTION_DAYS

    await lab.namespace(f"kept-{unique}")
    described = await lab.client().workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=f"kept-{unique}"))
    assert described.config.workflow_execution_retention_ttl.seconds == round(EMBEDDED_RETENTION_DAYS * 86400) == 14400
    await lab.namespace(f"day-{unique}", retention_days=1)
    described = await lab.client().workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=f"day-{unique}"))
    assert described.config.workflow_execution_retention_ttl.seconds == 86400
