"""``nexus-lab bench``: how fast the lab is, and what it costs over the raw SDK.

Every figure is a median over repeated runs in one process. Round trips are measured for the
same caller and handler code (``nexus_lab.demo``) twice on the same server, interleaved: once
through the lab (``lab.execute`` with its watchdog, lab workers) and once with the plain SDK
(``Client.execute_workflow``, ``Worker`` objects made by hand), so the ratio is the lab's overhead.

Targets (issue 2): lab ready ≤ 1.0 s; lab/raw ratio ≤ 1.05.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from typing import Any, Awaitable, Callable

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from nexus_lab import demo
from nexus_lab.connection import connect_client
from nexus_lab.server import find_free_port_pair, start_embedded_server
from nexus_lab.story.payments import (
    CALLER_WORKFLOWS,
    CheckTransactionWorkflow,
    QuickScoreWorkflow,
)

RAW_ENDPOINT, RAW_HANDLER_QUEUE, RAW_CALLER_QUEUE = "fraud-detection-raw", "raw-fraud-tq", "raw-payments-tq"


async def _timed(action: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def server_ready_once(port: int) -> float:
    """Process start until a client is connected."""
    started = time.perf_counter()
    server = await start_embedded_server(port, reuse=False)
    await connect_client(server.address)
    elapsed = time.perf_counter() - started
    server.stop()
    return elapsed


async def lab_ready_once(port: int) -> float:
    """``start()`` + 2 namespaces + endpoint + 2 workers, as chapter 0 does."""
    import nexus_lab

    started = time.perf_counter()
    lab = await nexus_lab.start(port, reuse=False)
    await demo.set_up(lab)
    elapsed = time.perf_counter() - started
    await lab.stop()
    return elapsed


async def _raw_workers(client: Client) -> list[Worker]:
    """The same handler and caller code on workers made with the SDK alone.

    The story's workflows live in the ``nexus_lab`` package, so the raw workers pass that package
    through the sandbox as the lab's do: with the SDK's default restrictions every workflow task
    would re-import the whole package inside the sandbox (about 50 ms a run here), measuring
    where the demo code lives instead of what the lab adds.
    """
    handler_client = Client(**{**client.config(), "namespace": demo.HANDLER_NAMESPACE})
    caller_client = Client(**{**client.config(), "namespace": demo.CALLER_NAMESPACE})
    runner = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("nexus_lab"))
    return [
        Worker(handler_client, task_queue=RAW_HANDLER_QUEUE, workflows=[demo.FraudCheckWorkflow],
               nexus_service_handlers=[demo.FraudServiceHandler()], workflow_runner=runner),
        Worker(caller_client, task_queue=RAW_CALLER_QUEUE, workflows=CALLER_WORKFLOWS, workflow_runner=runner),
    ]


async def round_trips(port: int, repeats: int) -> dict[str, dict[str, float]]:
    import nexus_lab

    lab = await nexus_lab.start(port, reuse=False)
    try:
        await demo.set_up(lab)
        await lab.endpoint(RAW_ENDPOINT, namespace=demo.HANDLER_NAMESPACE, task_queue=RAW_HANDLER_QUEUE)
        raw_caller = lab.client(demo.CALLER_NAMESPACE)
        workers = await _raw_workers(lab.client())
        tasks = [asyncio.create_task(w.run()) for w in workers]
        figures: dict[str, dict[str, float]] = {}
        try:
            for label, workflow_cls in (("sync op", QuickScoreWorkflow), ("async op", CheckTransactionWorkflow)):
                lab_times, raw_times = [], []
                for i in range(repeats + 2):  # two warm-up rounds are not counted
                    payment = demo.Transaction(f"bench-{uuid.uuid4().hex[:10]}", 100)
                    run_lab = lambda: lab.execute(  # noqa: E731
                        workflow_cls.run, demo.PaymentRequest(payment), namespace=demo.CALLER_NAMESPACE,
                        task_queue=demo.CALLER_QUEUE, id=f"lab-{payment.id}")
                    raw_payment = demo.Transaction(f"raw-{payment.id}", 100)
                    run_raw = lambda: raw_caller.execute_workflow(  # noqa: E731
                        workflow_cls.run, demo.PaymentRequest(raw_payment, RAW_ENDPOINT),
                        id=f"raw-{payment.id}", task_queue=RAW_CALLER_QUEUE)
                    if i % 2:  # alternate who goes first, so neither gains from order
                        lab_time, raw_time = await _timed(run_lab), await _timed(run_raw)
                    else:
                        raw_time, lab_time = await _timed(run_raw), await _timed(run_lab)
                    if i >= 2:
                        lab_times.append(lab_time)
                        raw_times.append(raw_time)
                lab_median, raw_median = statistics.median(lab_times), statistics.median(raw_times)
                figures[label] = {"lab_s": lab_median, "raw_s": raw_median, "ratio": lab_median / raw_median}
            rss = lab.server.rss_bytes() if lab.server else None
            figures["server"] = {"rss_mb": (rss or 0) / 2**20}
        finally:
            for w in workers:
                await w.shutdown()
            await asyncio.gather(*tasks, return_exceptions=True)
        return figures
    finally:
        await lab.stop()


async def run(repeats: int = 5, trips: int = 30) -> dict[str, Any]:
    base = find_free_port_pair(24000)
    ports = iter(range(base, base + 200, 2))
    server_ready = [await server_ready_once(next(ports)) for _ in range(repeats)]
    lab_ready = [await lab_ready_once(next(ports)) for _ in range(repeats)]
    trips_figures = await round_trips(next(ports), trips)
    return {
        "server_ready_s": statistics.median(server_ready),
        "lab_ready_s": statistics.median(lab_ready),
        **trips_figures,
        "repeats": repeats,
        "round_trips": trips,
    }


def report(figures: dict[str, Any]) -> str:
    lines = [
        f"server start-to-ready            {figures['server_ready_s'] * 1000:8.0f} ms  (median of {figures['repeats']})",
        f"lab ready (start + 2 ns + endpoint + 2 workers)"
        f" {figures['lab_ready_s'] * 1000:6.0f} ms  (target <= 1000 ms)",
    ]
    for label in ("sync op", "async op"):
        f = figures[label]
        lines.append(f"{label:<8} round trip: lab {f['lab_s'] * 1000:6.1f} ms, raw SDK {f['raw_s'] * 1000:6.1f} ms,"
                     f" ratio {f['ratio']:.3f}  (target <= 1.05; median of {figures['round_trips']})")
    lines.append(f"server RSS                       {figures['server']['rss_mb']:8.0f} MiB")
    return "\n".join(lines)


async def _one_learner_check(exercise: str, port: int, home: str) -> tuple[float, int]:
    """One learner's ``nexus-lab check EXERCISE --solution`` as its own process: (seconds, exit code)."""
    import os
    import sys

    env = dict(os.environ, NEXUS_LAB_PORT=str(port), NEXUS_LAB_HOME=home,
               NEXUS_LAB_PROGRESS=os.path.join(home, "progress.json"))
    env.pop("NEXUS_LAB_LEARNER", None)
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nexus_lab.cli", "check", exercise, "--solution",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    code = await proc.wait()
    return time.perf_counter() - started, code


async def workshop_capacity(exercise: str = "ch03-quick-score", levels: tuple[int, ...] = (1, 2, 4, 6, 8, 12, 16),
                            limit_s: float = 5.0) -> list[dict[str, float]]:
    """Learners checking at the same moment against one dev server, in growing numbers, until the
    slowest check passes ``limit_s``. Every learner is a real ``nexus-lab check`` process on this
    machine, so the learners' own CPU is counted too (on real laptops it is not): a lower bound."""
    import tempfile

    server = await start_embedded_server(find_free_port_pair(24500), reuse=False)
    rows = []
    try:
        await _one_learner_check(exercise, server.port, tempfile.mkdtemp(prefix="nexus-lab-warm-"))
        for learners in levels:
            homes = [tempfile.mkdtemp(prefix="nexus-lab-learner-") for _ in range(learners)]
            cpu_before = _process_cpu_s(server.pid)
            results = await asyncio.gather(*(_one_learner_check(exercise, server.port, h) for h in homes))
            times = sorted(t for t, _ in results)
            rows.append({"learners": learners, "median_s": statistics.median(times), "max_s": times[-1],
                         "failed": sum(code != 0 for _, code in results),
                         "server_cpu_per_check_s": (_process_cpu_s(server.pid) - cpu_before) / learners})
            if times[-1] > limit_s:
                break
    finally:
        server.stop()
    return rows


def _process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (Linux /proc), 0 where unknown."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return 0.0


def capacity_report(rows: list[dict[str, float]], limit_s: float = 5.0) -> str:
    lines = ["learners at once   median check   slowest check   failed"]
    lines += [f"{r['learners']:>16}   {r['median_s']:>10.2f} s   {r['max_s']:>11.2f} s   {r['failed']:>6}" for r in rows]
    served = [r["learners"] for r in rows if r["max_s"] <= limit_s and not r["failed"]]
    lines.append(f"One dev server on this machine serves {max(served) if served else 0} learners checking at "
                 f"the same moment with every check under {limit_s:g} s (learners' own CPU included).")
    per_check = statistics.median(r["server_cpu_per_check_s"] for r in rows) if rows else 0.0
    if per_check > 0:
        cores = os.cpu_count() or 1
        lines.append(f"The server itself spent {per_check:.2f} CPU-s per check: with learners on their own laptops, "
                     f"its {cores} cores could take about {int(limit_s * cores / per_check)} checks in {limit_s:g} s "
                     "(an estimate, not measured).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nexus-lab bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="server/lab start repeats")
    parser.add_argument("--trips", type=int, default=30, help="round trips per operation kind")
    parser.add_argument("--workshop", action="store_true",
                        help="instead: how many learners checking at once one dev server serves under 5 s")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.workshop:
        rows = asyncio.run(workshop_capacity())
        print(capacity_report(rows))
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(rows, handle, indent=2)
        return 0
    figures = asyncio.run(run(args.repeats, args.trips))
    print(report(figures))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return 0
