"""The benchmark and the demo run end to end (figures are printed by `nexus-lab bench`, not asserted)."""

from __future__ import annotations

from nexus_lab import bench, demo
from nexus_lab.server import find_free_port_pair


async def test_bench_measures_every_figure():
    figures = await bench.run(repeats=1, trips=2)
    for label in ("sync op", "async op"):
        assert figures[label]["lab_s"] > 0 and figures[label]["raw_s"] > 0
        assert figures[label]["ratio"] == figures[label]["lab_s"] / figures[label]["raw_s"]
    assert figures["server_ready_s"] > 0 and figures["lab_ready_s"] > figures["server_ready_s"] * 0.5
    assert figures["server"]["rss_mb"] > 10
    text = bench.report(figures)
    assert "ratio" in text and "server RSS" in text and "lab ready" in text


async def test_demo_prints_both_histories(capsys):
    result = await demo.run_demo(find_free_port_pair(28500))
    assert result == "demo-1: approved (low risk), quick score 1"
    out = capsys.readouterr().out
    assert "payments/payment-demo-1 · PaymentWorkflow · COMPLETED" in out
    assert "fraud/fraud-check-demo-1 · FraudCheckWorkflow · COMPLETED" in out
    assert "★ NexusOperationStarted" in out


async def test_workshop_capacity_measures_concurrent_learner_checks():
    rows = await bench.workshop_capacity(levels=(1, 2), limit_s=60)
    assert [r["learners"] for r in rows] == [1, 2]
    assert all(r["failed"] == 0 and 0 < r["median_s"] <= r["max_s"] for r in rows)
    assert all(r["server_cpu_per_check_s"] > 0 for r in rows)
    assert "learners checking at the same moment" in bench.capacity_report(rows)
