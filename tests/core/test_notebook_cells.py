"""Workflows written in notebook cells, run in a real Jupyter kernel (nbclient).

Proves the three promises of nexus_lab/notebook.py: a cell-defined workflow runs, the full sandbox
still reports a determinism mistake in it, and re-running cells (start, worker) is harmless.
"""

from __future__ import annotations

import os

import nbformat
import pytest

from ..processes import run_notebook

CELLS = [
    # 0: start (run twice below)
    "import nexus_lab\nlab = await nexus_lab.start()\nlab_id = id(lab)",
    # 1: contract + handler + workflows, all in cells
    '''from dataclasses import dataclass
from datetime import datetime, timedelta
import nexusrpc, nexusrpc.handler
from temporalio import workflow

@dataclass
class Payment:
    id: str
    amount: int

@nexusrpc.service(name="fraud.v1")
class FraudService:
    get_quick_score: nexusrpc.Operation[Payment, int] = nexusrpc.Operation(name="getQuickScore")

@nexusrpc.handler.service_handler(service=FraudService)
class FraudHandler:
    @nexusrpc.handler.sync_operation
    async def get_quick_score(self, ctx, payment: Payment) -> int:
        return payment.amount // 10''',
    # 2
    '''@workflow.defn
class CellPaymentWorkflow:
    @workflow.run
    async def run(self, payment: Payment) -> int:
        client = workflow.create_nexus_client(service=FraudService, endpoint="cell-fraud")
        return await client.execute_operation(FraudService.get_quick_score, payment,
                                              schedule_to_close_timeout=timedelta(seconds=10))

@workflow.defn
class CellClockWorkflow:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()''',
    # 3
    '''await lab.namespace("cell-payments"); await lab.namespace("cell-fraud")
await lab.endpoint("cell-fraud", namespace="cell-fraud", task_queue="fraud-tq")
await lab.worker(namespace="cell-fraud", task_queue="fraud-tq", nexus_services=[FraudHandler()])
await lab.worker(namespace="cell-payments", task_queue="pay-tq", workflows=[CellPaymentWorkflow, CellClockWorkflow])''',
    # 4
    '''score = await lab.execute(CellPaymentWorkflow.run, Payment("p1", 250), namespace="cell-payments", task_queue="pay-tq")
print("SCORE", score)''',
    # 5
    '''try:
    await lab.execute(CellClockWorkflow.run, namespace="cell-payments", task_queue="pay-tq")
except nexus_lab.WorkflowTaskFailedError as err:
    print("CAUGHT", err)''',
    # 6: re-run of the start and worker cells
    "lab2 = await nexus_lab.start()\nprint('SAME LAB', id(lab2) == lab_id)",
    # 7
    '''await lab.worker(namespace="cell-payments", task_queue="pay-tq", workflows=[CellPaymentWorkflow, CellClockWorkflow])
print("SCORE AGAIN", await lab.execute(CellPaymentWorkflow.run, Payment("p2", 90), namespace="cell-payments", task_queue="pay-tq"))''',
    # 8: helpers defined in cells: a plain one runs, a non-deterministic one two calls deep is caught
    '''def risk_band(score: int) -> str:
    return "high" if score > 50 else "low"

def stamp() -> str:
    return datetime.now().isoformat()

def label_with_time(text: str) -> str:
    return f"{text} at {stamp()}"''',
    # 9
    '''@workflow.defn
class CellHelperWorkflow:
    @workflow.run
    async def run(self, score: int) -> str:
        return risk_band(score)

@workflow.defn
class CellHelperClockWorkflow:
    @workflow.run
    async def run(self) -> str:
        return label_with_time("checked")''',
    # 10
    '''await lab.worker(namespace="cell-payments", task_queue="helper-tq", workflows=[CellHelperWorkflow, CellHelperClockWorkflow])
print("BAND", await lab.execute(CellHelperWorkflow.run, 80, namespace="cell-payments", task_queue="helper-tq"))
try:
    await lab.execute(CellHelperClockWorkflow.run, namespace="cell-payments", task_queue="helper-tq")
except nexus_lab.WorkflowTaskFailedError as err:
    print("CAUGHT", err)''',
    "await lab.stop()",
]


def _outputs(cell) -> str:
    texts = []
    for output in cell.get("outputs", []):
        texts.append(output.get("text") or str(output.get("data", {}).get("text/plain", "")) or output.get("evalue", ""))
    return "\n".join(texts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Run the notebook once in a fresh kernel on a server of its own port."""
    from nexus_lab.server import find_free_port_pair

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    env = dict(os.environ, NEXUS_LAB_PORT=str(find_free_port_pair(27500)))
    return run_notebook(nb, env, str(tmp_path_factory.mktemp("nb")), timeout=60)


def test_cell_workflow_runs_in_the_sandbox(executed):
    assert "SCORE 25" in _outputs(executed.cells[4])


def test_sandbox_mistake_in_a_cell_is_reported_with_its_line(executed):
    out = _outputs(executed.cells[5])
    assert "CAUGHT Workflow" in out and "datetime.datetime.now" in out
    assert "at the cell defining CellClockWorkflow, line 13 in run: return datetime.now().isoformat()" in out


def test_rerun_cells_reuse_lab_and_replace_worker(executed):
    assert "SAME LAB True" in _outputs(executed.cells[6])
    assert "SCORE AGAIN 9" in _outputs(executed.cells[7])


def test_helper_functions_from_cells_are_checked_too(executed):
    out = _outputs(executed.cells[10])
    assert "BAND high" in out
    assert "CAUGHT Workflow" in out and "datetime.datetime.now" in out
    assert "the cell defining stamp, line 5" in out, out


def test_no_server_or_sdk_noise_in_any_cell(executed):
    everything = "\n".join(_outputs(c) for c in executed.cells)
    assert "level=" not in everything and "Failed activation" not in everything
    assert not any(o.get("name") == "stderr" for c in executed.cells for o in c.get("outputs", []))
