"""Process and kernel helpers shared by the tests (liveness checks, running a notebook in a fresh kernel)."""

from __future__ import annotations

import time

from nexus_lab.server import pid_alive

alive = pid_alive


def wait_dead(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def run_notebook(notebook, env: dict[str, str], folder: str, timeout: int = 120):
    """Execute every cell of ``notebook`` in a fresh kernel with ``env`` (raises on a failing cell)."""
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": folder}})
    client.km = client.create_kernel_manager()
    client.start_new_kernel(env=env)
    client.start_new_kernel_client()
    try:
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    finally:
        client._cleanup_kernel()
    return notebook
