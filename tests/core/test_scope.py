"""Workshop scoping: two learners on one cluster run the same chapter without meeting."""

from __future__ import annotations

import pytest

import nexus_lab
from nexus_lab import demo
from nexus_lab.workshop.scope import Scope, ScopeError, normalise_learner


def test_learner_names_are_normalised_or_refused():
    assert normalise_learner("Alice Smith") == "alice-smith"
    with pytest.raises(ScopeError):
        normalise_learner("9")


def test_scope_maps_names_once():
    scope = Scope("bob")
    assert scope.namespace("payments") == "bob-payments" == scope.namespace("bob-payments")
    assert scope.endpoint("fraud-detection") == "bob-fraud-detection"
    assert scope.endpoint("classroom") == "classroom"
    assert scope.unscoped("bob-payments") == "payments"
    assert Scope().namespace("payments") == "payments"


@pytest.mark.parametrize("learner", ["alice", "bob"])
async def test_same_chapter_code_runs_scoped_per_learner(lab, monkeypatch, learner):
    monkeypatch.setenv("NEXUS_LAB_LEARNER", learner)
    monkeypatch.setenv("TEMPORAL_ADDRESS", lab.server.address)
    scoped = await nexus_lab.start()  # workshop mode: start() connects to the shared cluster
    try:
        assert scoped.server is None and scoped.scope.learner == learner
        assert f"Learner scope '{learner}'" in scoped.summary()
        await demo.set_up(scoped)  # the chapter's own code: "payments", "fraud", "fraud-detection"
        result = await scoped.execute(demo.PaymentWorkflow.run, demo.PaymentRequest(demo.Transaction(learner, 5)),
                                      namespace="payments", task_queue="payments-tq", id=f"pay-{learner}")
        assert result.startswith(f"{learner}: approved")
        history = await scoped.history(f"pay-{learner}", namespace="payments")
        assert history.namespace == f"{learner}-payments"
        assert history.find("NexusOperationScheduled")[0].fields["endpoint"] == f"{learner}-fraud-detection"
        [handler] = await scoped.follow(history)
        assert handler.namespace == f"{learner}-fraud"
    finally:
        await scoped.stop()
    names = [e.name for e in await lab.endpoints()]
    assert f"{learner}-fraud-detection" in names
