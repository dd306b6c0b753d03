"""Exercise ch08-read-history: answer questions from a real run's histories.

Run ``HistoryScenario`` yourself (in the chapter 8 notebook, or from a cell)::

    await lab.execute(HistoryScenario.run, "T-1001", namespace="payments", task_queue="payments-tq")
    caller = await lab.history(<its workflow id>, namespace="payments")
    handler = (await lab.follow(caller))[0]

then read ``caller`` and ``handler`` (``print(caller)``, ``caller.find("NexusOperationStarted")``,
``.fields``, ``.links()``) and fill in ``ANSWERS``. The check runs the same scenario and compares
your answers with what the real histories say.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from fraud_contract import ENDPOINT, FraudService, Transaction

TIMEOUT = timedelta(seconds=10)


@workflow.defn
class HistoryScenario:
    """Given: a quick score, then the fraud check, for one small payment."""

    @workflow.run
    async def run(self, transaction_id: str) -> bool:
        fraud = workflow.create_nexus_client(service=FraudService, endpoint=ENDPOINT)
        tx = Transaction(transaction_id, 300)
        await fraud.execute_operation(FraudService.get_quick_score, tx, schedule_to_close_timeout=TIMEOUT)
        verdict = await fraud.execute_operation(FraudService.check_transaction, tx, schedule_to_close_timeout=TIMEOUT)
        return verdict.approved


ANSWERS: dict[str, object] = {
    # TODO: Answer each question from the histories of a run with transaction ID "T-1001".
    #       Q1: How many Nexus events does the caller's history hold in total?
    #       Q2: Which event type in the caller's history carries the operation token?
    #       Q3: In which namespace does the handler workflow run (see the decoded token)?
    #       Q4: What is the handler workflow's ID?
    #       Q5: Which endpoint name does NexusOperationScheduled record?
    #       Q6: Which event type of the handler workflow's history links back to the caller?
    "Q1": None,
    "Q2": None,
    "Q3": None,
    "Q4": None,
    "Q5": None,
    "Q6": None,
}
