"""Workshop scoping: two learners on one cluster run the same chapter without meeting, and no
learner name can reach another learner's or the instructor's names."""

from __future__ import annotations

import pytest

import nexus_lab
from nexus_lab import demo
from nexus_lab.workshop.scope import (
    Scope,
    ScopeError,
    display_learner,
    learner_of,
    normalise_learner,
)

pytestmark = pytest.mark.no_server  # the fast tier: see tests/conftest.py


def test_learner_names_are_normalised_or_refused():
    assert normalise_learner("Alice Smith") == "alice-smith" == normalise_learner("  ALICE_smith ")
    assert normalise_learner("ﬁona") == "fiona"  # NFKC: the ligature is two letters
    for unsafe in ("9", "", "al\u200bice", "bob🙂", "аlice", "xn-zo", "x" * 41, "a\nb"):
        with pytest.raises(ScopeError):
            normalise_learner(unsafe)


def test_different_people_never_share_a_scope():
    names = ["Zoë", "Zoé", "zo", "Ålice", "alice", "lice", "张伟", "Ελένη"]
    slugs = [normalise_learner(n) for n in names]
    assert len(set(slugs)) == len(names), dict(zip(names, slugs, strict=True))
    assert display_learner(normalise_learner("Zoë")) == "zoë" and display_learner("alice") == "alice"
    for slug in slugs:  # every prefix is a valid endpoint name start: letters, digits, single dashes
        assert slug[0].isalpha() and slug.isascii() and "--" not in slug and not slug.endswith("-")


def test_a_name_belongs_to_one_learner_only():
    alice, alice_fraud = Scope("alice"), Scope("alice-fraud")
    # Once `alice-fraud` + `detection` was `alice` + `fraud-detection`.
    assert alice_fraud.endpoint("detection") != alice.endpoint("fraud-detection")
    assert not alice_fraud.owns(alice.endpoint("fraud-detection"))
    assert not alice.owns(alice_fraud.endpoint("detection"))
    assert learner_of(alice.endpoint("fraud-detection")) == "alice"
    assert learner_of(alice_fraud.endpoint("detection")) == "alice-fraud"
    assert learner_of("classroom") is None and learner_of("xn-bad!--x") is None
    check = alice.for_check("1a2b3c4d")
    assert check.namespace("payments") == "alice--chk-1a2b3c4d--payments" and alice.owns(check.namespace("payments"))
    assert learner_of(check.namespace("payments")) == "alice"


def test_scope_maps_names_once():
    scope = Scope("bob")
    assert scope.namespace("payments") == "bob--payments" == scope.namespace("bob--payments")
    assert scope.endpoint("fraud-detection") == "bob--fraud-detection"
    assert scope.endpoint("classroom") == "classroom"
    assert scope.unscoped("bob--payments") == "payments"
    quoted = "endpoint 'bob--fraud' -> bob--fraud/q, not xbob--y"
    assert scope.unscoped(quoted) == "endpoint 'fraud' -> fraud/q, not xbob--y"
    assert Scope().namespace("payments") == "payments" and Scope().unscoped("bob--x") == "bob--x"


def test_a_learner_writes_only_their_own_endpoints():
    scope = Scope("mallory")
    assert scope.own_endpoint("fraud-detection") == "mallory--fraud-detection"
    with pytest.raises(ScopeError, match="only your own endpoints"):
        scope.own_endpoint("classroom")
    assert Scope().own_endpoint("classroom") == "classroom"  # the instructor's own lab


async def test_a_learner_cannot_repoint_or_delete_others_endpoints(lab, monkeypatch, unique):
    await lab.namespace(f"teacher-{unique}")
    before = await lab.endpoint("classroom", namespace=f"teacher-{unique}", task_queue="classroom-tq")
    alices = await lab.endpoint(f"alice--fraud-{unique}", namespace=f"teacher-{unique}", task_queue="fraud-tq")
    monkeypatch.setenv("NEXUS_LAB_LEARNER", "mallory")
    monkeypatch.setenv("TEMPORAL_ADDRESS", lab.server.address)
    mallory = await nexus_lab.connect()
    try:
        with pytest.raises(ScopeError, match="shared by the whole room"):
            await mallory.endpoint("classroom", namespace="default", task_queue="steal")
        with pytest.raises(ScopeError):
            await mallory.delete_endpoint("classroom")
        # Another learner's full name only ever means a name inside mallory's own scope.
        assert not await mallory.delete_endpoint(alices.name)
        mine = await mallory.endpoint(alices.name, namespace="default", task_queue="steal")
        assert mine.name == f"mallory--{alices.name}"
    finally:
        await mallory.stop()
    table = {e.name: e for e in await lab.endpoints()}
    assert (table["classroom"].task_queue, table["classroom"].version) == (before.task_queue, before.version)
    assert (table[alices.name].task_queue, table[alices.name].version) == ("fraud-tq", alices.version)
    await lab.delete_endpoint("classroom")


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
        assert history.namespace == f"{learner}--payments"
        assert history.find("NexusOperationScheduled")[0].fields["endpoint"] == f"{learner}--fraud-detection"
        [handler] = await scoped.follow(history)
        assert handler.namespace == f"{learner}--fraud"
    finally:
        await scoped.stop()
    names = [e.name for e in await lab.endpoints()]
    assert f"{learner}--fraud-detection" in names
