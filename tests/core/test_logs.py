"""Logs when asked: what workflows, activities and Nexus handlers log reaches the cell, SDK noise does not."""

from __future__ import annotations

from datetime import timedelta

import nexusrpc
import nexusrpc.handler
import pytest
from temporalio import activity, nexus, workflow

from nexus_lab.connection import show_logs


@activity.defn
async def notify_analyst(transaction_id: str) -> str:
    activity.logger.info("analyst notified about %s", transaction_id)
    return "notified"


@nexusrpc.service(name="logging.v1")
class LoggingService:
    check: nexusrpc.Operation[str, str] = nexusrpc.Operation(name="check")


@nexusrpc.handler.service_handler(service=LoggingService)
class LoggingServiceHandler:
    @nexusrpc.handler.sync_operation
    async def check(self, ctx: nexusrpc.handler.StartOperationContext, transaction_id: str) -> str:
        nexus.logger.info("handler checks %s", transaction_id)
        return "ok"


@workflow.defn
class LoggingWorkflow:
    @workflow.run
    async def run(self, transaction_id: str) -> str:
        workflow.logger.info("payment %s received", transaction_id)
        await workflow.execute_activity(notify_analyst, transaction_id, start_to_close_timeout=timedelta(seconds=10))
        client = workflow.create_nexus_client(service=LoggingService, endpoint=f"logging-{transaction_id}")
        return await client.execute_operation(LoggingService.check, transaction_id)


@workflow.defn
class FailingTaskWorkflow:
    @workflow.run
    async def run(self) -> None:
        raise ValueError("a bug in workflow code")  # the SDK logs this task failure with a traceback


@pytest.fixture
async def logging_lab(lab, unique):
    await lab.namespace("logs")
    await lab.endpoint(f"logging-{unique}", namespace="logs", task_queue=f"logs-{unique}")
    await lab.worker(namespace="logs", task_queue=f"logs-{unique}", workflows=[LoggingWorkflow, FailingTaskWorkflow],
                     activities=[notify_analyst], nexus_services=[LoggingServiceHandler()])
    yield lab
    show_logs(None)
    await lab.stop_worker(namespace="logs", task_queue=f"logs-{unique}")


async def test_logs_show_only_when_asked(logging_lab, unique, capsys):
    async def run() -> str:
        return await logging_lab.execute(LoggingWorkflow.run, unique, namespace="logs", task_queue=f"logs-{unique}")

    assert await run() == "ok"
    assert unique not in capsys.readouterr().out  # quiet by default

    show_logs("INFO")
    assert await run() == "ok"
    out = capsys.readouterr().out
    assert f"INFO temporalio.workflow: payment {unique} received" in out
    assert f"INFO temporalio.activity: analyst notified about {unique}" in out
    assert f"INFO temporalio.nexus: handler checks {unique}" in out
    assert out.count(f"payment {unique} received") == 1  # not repeated when the workflow replays

    show_logs("WARNING")
    assert await run() == "ok"
    assert unique not in capsys.readouterr().out


async def test_sdk_noise_stays_out_of_the_cell(logging_lab, unique, capsys):
    import nexus_lab

    show_logs("DEBUG")
    with pytest.raises(nexus_lab.WorkflowTaskFailedError):
        await logging_lab.execute(FailingTaskWorkflow.run, namespace="logs", task_queue=f"logs-{unique}")
    out = capsys.readouterr().out
    assert "a bug in workflow code" not in out and "Traceback" not in out
    from nexus_lab.config import logs_dir

    assert "a bug in workflow code" in (logs_dir() / "sdk.log").read_text()  # kept for whoever wants it
