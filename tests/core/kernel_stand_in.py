"""Stands in for a Jupyter kernel: starts a lab, reports the server's pid, then idles.

    python kernel_stand_in.py PORT [--thread] [--fail-a-task]

Prints ``SERVER <pid>`` once the lab is up; on SIGINT prints ``INTERRUPTED`` and keeps going, as a
kernel does when a cell is interrupted.
"""

import asyncio
import signal
import sys
import threading

import nexus_lab


def on_interrupt(*_):
    print("INTERRUPTED", flush=True)


async def main(port: int, fail_a_task: bool) -> None:
    lab = await nexus_lab.start(port)
    if fail_a_task:
        sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/..")
        from core.story import ClockReadingWorkflow

        await lab.worker(task_queue="tq", workflows=[ClockReadingWorkflow])
        try:
            await lab.execute(ClockReadingWorkflow.run, task_queue="tq")
        except nexus_lab.WorkflowTaskFailedError:
            print("TASK FAILURE REPORTED", flush=True)
    print(f"SERVER {lab.server.pid}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, on_interrupt)
    port = int(sys.argv[1])
    run = lambda: asyncio.run(main(port, "--fail-a-task" in sys.argv))  # noqa: E731
    if "--thread" in sys.argv:
        threading.Thread(target=run, daemon=True).start()
        threading.Event().wait()
    else:
        run()
