"""Chapter 8: the event-history quiz, judged against real runs."""

from __future__ import annotations

from nexus_lab.checker.checks.common import (
    RefFraudCheckWorkflow,
    RefFraudHandler,
    events_text,
)
from nexus_lab.checker.context import Check
from nexus_lab.story.fraud_v1 import Transaction

SCENARIOS = ("A", "B", "C", "D")


def _normalised(events: list) -> list[str]:
    """Accept ``"Scheduled"`` for ``"NexusOperationScheduled"``."""
    return [e if str(e).startswith("NexusOperation") else f"NexusOperation{e}" for e in events]


async def check_predict_events(c: Check) -> None:
    predictions = c.attr("PREDICTIONS", "a dict of scenario → list of event type names")
    scenarios = {name: c.attr(f"Scenario{name}") for name in SCENARIOS}
    await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow],
                  callers=list(scenarios.values()))
    # All four run at once; each test then waits for its own.
    handles = {name: await c.start_caller(workflow_cls.run, Transaction(c.unique("T"), 0), timeout=10,
                                          id=c.unique(f"scenario-{name.lower()}"))
               for name, workflow_cls in scenarios.items()}
    for name, workflow_cls in scenarios.items():
        async with c.test(f"scenario {name}: {(workflow_cls.__doc__ or '').split(':', 1)[-1].strip()}"):
            guess = predictions.get(name) or []
            c.expect(guess, f"No prediction for scenario {name} yet: PREDICTIONS[{name!r}] is empty.")
            await c.guard(c.result(handles[name]))
            real = (await c.caller_history(handles[name].id)).nexus_event_types()
            c.expect(_normalised(guess) == real,
                     f"You predicted {events_text(_normalised(guess))};\nthe real run shows {events_text(real)}.")


QUESTIONS = {
    "Q1": "the number of Nexus events in the caller's history",
    "Q2": "the event type that carries the operation token",
    "Q3": "the handler workflow's namespace",
    "Q4": "the handler workflow's ID",
    "Q5": "the endpoint name on NexusOperationScheduled",
    "Q6": "the handler event that links back to the caller",
}
WHERE = {
    "Q1": "Count the ★ lines of print(caller), or len(caller.nexus_event_types()).",
    "Q2": "Look for operation_token in the fields of the caller's events.",
    "Q3": "Decode the token: caller.find('NexusOperationStarted')[0].fields['token_decoded'].",
    "Q4": "The token names it too (its 'wid'), and so does the handler history's title.",
    "Q5": "caller.find('NexusOperationScheduled')[0].fields.",
    "Q6": "handler.links() lists each link with the event it sits on (from_event_id).",
}


async def check_read_history(c: Check) -> None:
    answers = c.attr("ANSWERS", "a dict of question → answer")
    scenario = c.attr("HistoryScenario")
    await c.setup(handlers=[RefFraudHandler()], handler_workflows=[RefFraudCheckWorkflow], callers=[scenario])
    wid = c.unique("history-scenario")
    async with c.test("HistoryScenario runs", shown=False):
        await c.run_caller(scenario.run, "T-1001", id=wid, timeout=10)
    caller = await c.caller_history(wid)
    handler = (await c.lab.follow(caller))[0]
    started = caller.find("NexusOperationStarted")[0]
    token = started.fields.get("token_decoded") or {}
    back_link = handler.links()[0]
    truth = {
        "Q1": len(caller.nexus_event_types()),
        "Q2": started.type,
        "Q3": c.unscoped(token.get("ns", "")),
        "Q4": token.get("wid", ""),
        "Q5": c.unscoped(caller.find("NexusOperationScheduled")[0].fields["endpoint"]),
        "Q6": next(e.type for e in handler.events if e.id == back_link.from_event_id),
    }
    for key, question in QUESTIONS.items():
        async with c.test(f"{key}: {question}"):
            given = answers.get(key)
            c.expect(given not in (None, ""), f"{key} has no answer yet.")
            same = str(given).strip().lower() == str(truth[key]).lower()
            c.expect(same, f"{given!r} is not what the real history shows. {WHERE[key]}")
