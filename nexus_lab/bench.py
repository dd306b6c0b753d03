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
import collections
import json
import math
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

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


def _client_in(client: Client, namespace: str) -> Client:
    """A client like ``client`` (same connection and options) for another namespace."""
    config = client.config()  # a copy: changing it leaves ``client`` alone
    config["namespace"] = namespace
    return Client(**config)


async def _raw_workers(client: Client) -> list[Worker]:
    """The same handler and caller code on workers made with the SDK alone.

    The story's workflows live in the ``nexus_lab`` package, so the raw workers pass that package
    through the sandbox as the lab's do: with the SDK's default restrictions every workflow task
    would re-import the whole package inside the sandbox (about 50 ms a run here), measuring
    where the demo code lives instead of what the lab adds.
    """
    handler_client = _client_in(client, demo.HANDLER_NAMESPACE)
    caller_client = _client_in(client, demo.CALLER_NAMESPACE)
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
                    # the loop's values are bound as defaults, so each lambda runs this round's payment
                    run_lab = lambda wf=workflow_cls, p=payment: lab.execute(  # noqa: E731
                        wf.run, demo.PaymentRequest(p), namespace=demo.CALLER_NAMESPACE,
                        task_queue=demo.CALLER_QUEUE, id=f"lab-{p.id}")
                    raw_payment = demo.Transaction(f"raw-{payment.id}", 100)
                    run_raw = lambda wf=workflow_cls, p=payment, rp=raw_payment: (  # noqa: E731
                        raw_caller.execute_workflow(
                            wf.run, demo.PaymentRequest(rp, RAW_ENDPOINT),
                            id=f"raw-{p.id}", task_queue=RAW_CALLER_QUEUE))
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


def _kernel_rss_mb() -> float:
    """This process's resident memory (it plays the kernel: lab, workers, client)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0.0


async def long_session_memory(port: int, runs: int) -> dict[str, float]:
    """Server and kernel RSS before and after ``runs`` story runs (sync and async operations
    alternating), as a long course session accumulates them."""
    import nexus_lab

    lab = await nexus_lab.start(port, reuse=False)
    try:
        await demo.set_up(lab)
        before = (lab.server.rss_bytes() or 0) / 2**20 if lab.server else 0.0
        for i in range(runs):
            workflow_cls = CheckTransactionWorkflow if i % 2 else QuickScoreWorkflow
            payment = demo.Transaction(f"mem-{uuid.uuid4().hex[:10]}", 100)
            await lab.execute(workflow_cls.run, demo.PaymentRequest(payment), namespace=demo.CALLER_NAMESPACE,
                              task_queue=demo.CALLER_QUEUE, id=f"mem-{payment.id}")
        after = (lab.server.rss_bytes() or 0) / 2**20 if lab.server else 0.0
        return {"runs": runs, "server_before_mb": before, "server_after_mb": after, "kernel_mb": _kernel_rss_mb()}
    finally:
        await lab.stop()


async def run(repeats: int = 5, trips: int = 30, memory_runs: int = 0) -> dict[str, Any]:
    base = find_free_port_pair(24000)
    ports = iter(range(base, base + 200, 2))
    server_ready = [await server_ready_once(next(ports)) for _ in range(repeats)]
    lab_ready = [await lab_ready_once(next(ports)) for _ in range(repeats)]
    trips_figures = await round_trips(next(ports), trips)
    memory = await long_session_memory(next(ports), memory_runs) if memory_runs else None
    return {
        "long_session": memory,
        "server_ready_s": statistics.median(server_ready),
        "lab_ready_s": statistics.median(lab_ready),
        **trips_figures,
        "repeats": repeats,
        "round_trips": trips,
    }


def report(figures: dict[str, Any]) -> str:
    lines = [
        f"server start-to-ready            {figures['server_ready_s'] * 1000:8.0f} ms"
        f"  (median of {figures['repeats']})",
        f"lab ready (start + 2 ns + endpoint + 2 workers)"
        f" {figures['lab_ready_s'] * 1000:6.0f} ms  (target <= 1000 ms)",
    ]
    for label in ("sync op", "async op"):
        f = figures[label]
        lines.append(f"{label:<8} round trip: lab {f['lab_s'] * 1000:6.1f} ms, raw SDK {f['raw_s'] * 1000:6.1f} ms,"
                     f" ratio {f['ratio']:.3f}  (target <= 1.05; median of {figures['round_trips']})")
    lines.append(f"server RSS                       {figures['server']['rss_mb']:8.0f} MiB")
    memory = figures.get("long_session")
    if memory:
        total = memory["server_after_mb"] + memory["kernel_mb"]
        lines.append(f"long session ({memory['runs']} runs): server RSS {memory['server_before_mb']:.0f} -> "
                     f"{memory['server_after_mb']:.0f} MiB, kernel {memory['kernel_mb']:.0f} MiB, "
                     f"together {total:.0f} MiB  (target <= 400 MB)")
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
            cpu_before = _process_cpu_s(server.server_pid)
            results = await asyncio.gather(*(_one_learner_check(exercise, server.port, h) for h in homes))
            times = sorted(t for t, _ in results)
            rows.append({"learners": learners, "median_s": statistics.median(times), "max_s": times[-1],
                         "failed": sum(code != 0 for _, code in results),
                         "server_cpu_per_check_s": (_process_cpu_s(server.server_pid) - cpu_before) / learners})
            if times[-1] > limit_s:
                break
    finally:
        server.stop()
    return rows


def _process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (Linux /proc), 0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return 0.0


def capacity_report(rows: list[dict[str, float]], limit_s: float = 5.0) -> str:
    lines = ["learners at once   median check   slowest check   failed"]
    lines += [f"{r['learners']:>16}   {r['median_s']:>10.2f} s   {r['max_s']:>11.2f} s   {r['failed']:>6}"
              for r in rows]
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


# --- a class of learners over time ----------------------------------------------------------------
STATUS_WORDS = {"[x] passed": "passed", "[!] not yet": "not yet"}


def learner_pauses(rng: random.Random, minutes: float) -> list[float]:
    """When one learner checks, in simulated seconds from the start: a first check after reading for
    0–3 min, then a log-normal pause (median 75 s, mostly 30 s–3 min) of fixing code between checks."""
    times, at = [], rng.uniform(0, 180)
    while at < minutes * 60:
        times.append(at)
        at += min(600.0, rng.lognormvariate(math.log(75), 0.5))
    return times


async def _class_check(exercise: str, attempt: int, rng: random.Random, env: dict[str, str]) -> dict[str, Any]:
    """One learner's ``nexus-lab check EXERCISE --submit`` (their file, or by the third try mostly the
    solution): seconds from process start to exit, and the status it printed."""
    solved = rng.random() < min(0.9, 0.2 + 0.3 * attempt)
    args = ["check", exercise, "--submit", *(["--solution"] if solved else [])]
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "nexus_lab.cli", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    status = next((word for mark, word in STATUS_WORDS.items() if mark in text), "could not run")
    delivered = re.search(r"Submitted (\d+) result set", text)  # an earlier queued one may go along
    return {"seconds": time.perf_counter() - started, "status": status,
            "submitted": int(delivered[1]) if delivered else 0,
            "output": text if status == "could not run" else ""}


async def class_simulation(learners: int = 30, minutes: float = 10.0, speed: float = 4.0,
                           exercise: str = "ch03-quick-score", seed: int = 14) -> dict[str, Any]:
    """A workshop on one dev server: ``learners`` people each checking (and submitting to the classroom)
    at their own pace for ``minutes``. ``speed`` > 1 compresses the pauses, not the checks, so the
    server sees ``speed`` times a real class's check rate: an upper bound on what the room feels.
    Every learner is a real process on this machine, so their CPU competes with the server's too."""
    import tempfile

    from nexus_lab.lab import Lab
    from nexus_lab.workshop.ledger import Ledger, open_classroom

    rng = random.Random(seed)
    scratch = Path(tempfile.mkdtemp(prefix="nexus-lab-class-"))
    server = await start_embedded_server(find_free_port_pair(24700), reuse=False)
    lab = Lab(await connect_client(server.address), server=server)
    ledger = Ledger(scratch / "ledger.json")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "NEXUS_LAB_"))}
    results: list[dict[str, Any]] = []
    started = time.perf_counter()

    async def learner(number: int) -> None:
        home = scratch / f"learner-{number:02d}"
        env = dict(base_env, NEXUS_LAB_LEARNER=f"learner-{number:02d}", TEMPORAL_ADDRESS=server.address,
                   NEXUS_LAB_HOME=str(home), NEXUS_LAB_PROGRESS=str(home / "progress.json"))
        own = random.Random(rng.random())
        for attempt, at in enumerate(learner_pauses(own, minutes)):
            await asyncio.sleep(max(0.0, started + at / speed - time.perf_counter()))
            outcome = await _class_check(exercise, attempt, own, env)
            outcome["at_s"] = time.perf_counter() - started
            results.append(outcome)
            with (scratch / "checks.jsonl").open("a") as log:  # a run cut short still leaves its figures
                said = outcome["output"].strip().splitlines()[-1:] if outcome["output"] else []
                log.write(json.dumps({**{k: v for k, v in outcome.items() if k != "output"}, "said": said}) + "\n")
            if len(results) % 25 == 0:
                times = sorted(r["seconds"] for r in results)
                print(f"  {len(results)} checks after {outcome['at_s'] * speed / 60:.1f} simulated minutes: "
                      f"p95 so far {_percentile(times, 0.95):.1f} s ({scratch / 'checks.jsonl'})", flush=True)

    try:
        await open_classroom(lab, ledger)
        cpu_before = _process_cpu_s(server.server_pid)
        await asyncio.gather(*(learner(n) for n in range(1, learners + 1)))
        server_cpu = _process_cpu_s(server.server_pid) - cpu_before
        rss = (server.rss_bytes() or 0) / 2**20
    finally:
        await lab.stop()
    times = sorted(r["seconds"] for r in results)
    per_minute = collections.Counter(int(r["at_s"] * speed // 60) for r in results)
    return {
        "learners": learners, "minutes": minutes, "speed": speed, "exercise": exercise,
        "wall_s": time.perf_counter() - started, "checks": len(results),
        "statuses": dict(collections.Counter(r["status"] for r in results)),
        "submitted": sum(r["submitted"] for r in results), "recorded": len(ledger.records()),
        "median_s": statistics.median(times) if times else 0.0, "p95_s": _percentile(times, 0.95),
        "max_s": times[-1] if times else 0.0, "busiest_minute": max(per_minute.values(), default=0),
        "server_cpu_per_check_s": server_cpu / max(1, len(results)), "server_rss_mb": rss,
        "problems": [r["output"] for r in results if r["output"]][:3],
    }


def _percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(fraction * len(sorted_values)) - 1))]


def class_report(figures: dict[str, Any]) -> str:
    speed, minutes = figures["speed"], figures["minutes"]
    timing = (f"real time ({figures['wall_s'] / 60:.1f} min)" if speed == 1 else
              f"TIME COMPRESSED {speed:g}x: {minutes:g} simulated minutes in {figures['wall_s'] / 60:.1f} real "
              f"minutes; pauses shortened {speed:g}x, checks at full length, so the server took {speed:g}x a real "
              "class's check rate (an upper bound)")
    statuses = ", ".join(f"{n} {word}" for word, n in sorted(figures["statuses"].items()))
    lines = [
        f"Class simulation: {figures['learners']} learners checking {figures['exercise']} (and submitting) for "
        f"{minutes:g} minutes on one dev server, {timing}.",
        f"checks {figures['checks']} ({statuses or 'none'}); busiest simulated minute {figures['busiest_minute']}; "
        f"submissions (one per check) delivered {figures['submitted']}, recorded by the classroom "
        f"{figures['recorded']}/{figures['checks']}",
        f"check time (`nexus-lab check --submit`, start to exit): median {figures['median_s']:.2f} s, "
        f"p95 {figures['p95_s']:.2f} s, max {figures['max_s']:.2f} s",
        f"server: {figures['server_cpu_per_check_s']:.2f} CPU-s per check, RSS {figures['server_rss_mb']:.0f} MiB "
        f"at the end; learners' processes ran on this machine too ({os.cpu_count()} cores)",
    ]
    lines += [f"a check that could not run said: {p.strip().splitlines()[-1][:200]}" for p in figures["problems"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nexus-lab bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="server/lab start repeats")
    parser.add_argument("--trips", type=int, default=30, help="round trips per operation kind")
    parser.add_argument("--memory-runs", type=int, default=500,
                        help="story runs of the long-session memory figure (0 skips it)")
    parser.add_argument("--workshop", action="store_true",
                        help="instead: a class of learners checking at their own pace on one dev server (p95)")
    parser.add_argument("--learners", type=int, default=30, help="--workshop: class size")
    parser.add_argument("--minutes", type=float, default=10.0, help="--workshop: simulated workshop length")
    parser.add_argument("--speed", type=float, default=4.0,
                        help="--workshop: time compression (pauses / SPEED; 1 = real time, 10 minutes)")
    parser.add_argument("--capacity", action="store_true",
                        help="--workshop: also how many learners checking at the same moment stay under 5 s")
    parser.add_argument("--journey", action="store_true",
                        help="instead: fresh clone → JupyterLab answering, and Run All per chapter")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.journey:
        from nexus_lab.course.workspace import journey_figures, journey_report

        print(journey_report(journey_figures()))
        return 0
    if args.workshop:
        figures: dict[str, Any] = {"class": asyncio.run(class_simulation(args.learners, args.minutes, args.speed))}
        print(class_report(figures["class"]))
        if args.capacity:
            figures["capacity"] = asyncio.run(workshop_capacity())
            print(capacity_report(figures["capacity"]))
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(figures, handle, indent=2)
        return 0
    figures = asyncio.run(run(args.repeats, args.trips, args.memory_runs))
    print(report(figures))
    from nexus_lab.course.exercises import check_times_text, solution_check_times

    checks = solution_check_times()
    print(check_times_text(checks) + " — forked from the warm zygote")
    spawned = _spawned(solution_check_times)
    print(check_times_text(spawned) + " — each a fresh interpreter (NEXUS_LAB_CHECK_FORK=0)")
    forked_median = statistics.median(r.seconds for r in checks)
    spawned_median = statistics.median(r.seconds for r in spawned)
    print(f"check median forked/spawned: {forked_median / spawned_median:.2f} (target median <= 1.0 s)")
    figures["check_seconds"] = {r.exercise: round(r.seconds, 3) for r in checks}
    figures["check_seconds_spawned"] = {r.exercise: round(r.seconds, 3) for r in spawned}
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return 0


def _spawned(measure: Any) -> Any:
    """``measure()`` with every check child a fresh interpreter, for the ratio in the same run."""
    before = os.environ.get("NEXUS_LAB_CHECK_FORK")
    os.environ["NEXUS_LAB_CHECK_FORK"] = "0"
    try:
        return measure()
    finally:
        if before is None:
            del os.environ["NEXUS_LAB_CHECK_FORK"]
        else:
            os.environ["NEXUS_LAB_CHECK_FORK"] = before
