"""What a learner does to kernels, and what must (not) happen to the lab's server.

Each test drives real ipykernel processes through jupyter_client, as JupyterLab does.
"""

from __future__ import annotations

import time

import pytest

from nexus_lab.server import find_free_port_pair

from .kernels import Kernel, alive, wait_dead

START = "import nexus_lab\nlab = await nexus_lab.start()\nprint('SERVER', lab.server.pid, lab.server.owned)"


@pytest.fixture
def port():
    return find_free_port_pair(29000 + int(time.time() * 10) % 500)


@pytest.fixture
def kernels(port, tmp_path):
    started: list[Kernel] = []

    def make(**env) -> Kernel:
        kernel = Kernel({"NEXUS_LAB_PORT": str(port), **env})
        started.append(kernel)
        return kernel

    yield make
    for kernel in started:
        kernel.close()


def server_of(output: str) -> tuple[int, bool]:
    pid, owned = output.split("SERVER")[-1].split()[:2]
    return int(pid), owned == "True"


def test_interrupt_stops_the_wait_but_not_the_server(kernels):
    kernel = kernels()
    pid, _ = server_of(kernel.run(START))
    msg = kernel.start_cell("await lab.execute('NoWorkerForThis', task_queue='nobody-polls', timeout=None)")
    time.sleep(1.0)
    kernel.interrupt()
    outputs = kernel.wait_idle(msg, timeout=10)
    assert [o.split(":")[0] for o in outputs] == ["LabInterruptedError"], outputs  # one line, no SDK traceback
    assert alive(pid)
    assert "0" in kernel.run("print(len(list(lab.workers)))")  # the kernel is usable right away
    assert "True" in kernel.run("print(lab.server.is_running())")


@pytest.mark.parametrize("how", ["restart", "shutdown", "sigkill"])
def test_kernel_end_takes_the_server_with_it(kernels, how):
    kernel = kernels()
    pid, owned = server_of(kernel.run(START))
    assert owned
    getattr(kernel, how)()
    assert wait_dead(pid, 5.0), f"server {pid} outlived a kernel {how}"
    if how == "restart":  # the new kernel starts a fresh server on the same port
        new_pid, new_owned = server_of(kernel.run(START))
        assert new_owned and new_pid != pid


def test_persisted_histories_survive_a_kernel_restart(kernels, tmp_path):
    db = tmp_path / "lab.db"
    run_story = (
        f"import nexus_lab\nfrom nexus_lab import demo\nlab = await nexus_lab.start(persist={str(db)!r})\n"
        "await demo.set_up(lab)\n"
        "print(await lab.execute(demo.PaymentWorkflow.run, demo.PaymentRequest(demo.Transaction('kept', 5)),"
        " namespace='payments', task_queue='payments-tq', id='kept-payment'))"
    )
    kernel = kernels()
    assert "kept: approved" in kernel.run(run_story)
    kernel.restart()
    out = kernel.run(
        f"import nexus_lab\nlab = await nexus_lab.start(persist={str(db)!r})\n"
        "h = await lab.history('kept-payment', namespace='payments')\nprint(h.status, h.nexus_event_types())\n"
        "print([e.name for e in await lab.endpoints()])"
    )
    assert "COMPLETED" in out and "NexusOperationCompleted" in out and "fraud-detection" in out


def test_two_kernels_share_one_server_without_collisions(kernels):
    first, second = kernels(), kernels()
    pid1, owned1 = server_of(first.run(START))
    pid2, owned2 = server_of(second.run(START))
    assert owned1 and not owned2 and pid1 == pid2
    chapter = (
        "from nexus_lab import demo\nawait demo.set_up(lab)\n"
        "r = await lab.execute(demo.PaymentWorkflow.run, demo.PaymentRequest(demo.Transaction('{who}', 5)),"
        " namespace='payments', task_queue='payments-tq', id='pay-{who}')\nprint(r)"
    )
    # Both run the same chapter (same namespaces, endpoint, queues): idempotent setup, and each
    # kernel's run is served; worker polling on a shared queue is Temporal's normal load sharing.
    assert "one: approved" in first.run(chapter.format(who="one"))
    assert "two: approved" in second.run(chapter.format(who="two"))
    assert "three: approved" in first.run(chapter.format(who="three").replace("await demo.set_up(lab)\n", ""))
    # The kernel that started the server ends (a learner closes chapter 1): the server stays for the
    # second kernel, with its namespaces, endpoints and runs, and ends with that kernel.
    first.shutdown()
    time.sleep(1.5)  # three times what the keeper waits before it stops an unused server
    assert alive(pid1), "the server went with the kernel that started it, under another kernel using it"
    assert "four: approved" in second.run(chapter.format(who="four").replace("await demo.set_up(lab)\n", ""))
    assert "COMPLETED" in second.run("print((await lab.history('pay-one', namespace='payments')).status)")
    third = kernels()
    pid3, owned3 = server_of(third.run(START))
    assert pid3 == pid1 and not owned3  # a new kernel still reuses it
    second.shutdown()
    time.sleep(1.5)
    assert alive(pid1), "the server ended while a kernel still used it"
    third.sigkill()  # the last user, ended without a chance to say so
    assert wait_dead(pid1, 5.0), "the server outlived its last user"
