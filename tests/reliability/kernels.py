"""Real Jupyter kernels for the reliability tests, driven the way JupyterLab drives them."""

from __future__ import annotations

import os
import queue
import signal
import time

from jupyter_client import KernelManager

from ..processes import alive, wait_dead  # noqa: F401  (re-exported for the kernel tests)


class CellError(AssertionError):
    """A cell raised; the message is the kernel's traceback summary."""


class Kernel:
    """One ipykernel process with a client; ``run`` executes a cell and returns its text output."""

    def __init__(self, env: dict[str, str] | None = None):
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=dict(os.environ, **(env or {})))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    @property
    def pid(self) -> int:
        return self.km.provisioner.process.pid

    def run(self, code: str, timeout: float = 60, allow_error: bool = False) -> str:
        texts: list[str] = []
        errors: list[str] = []

        def collect(msg):
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                texts.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                texts.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                errors.append(f"{content['ename']}: {content['evalue']}")

        self.kc.execute_interactive(code, timeout=timeout, output_hook=collect)
        if errors and not allow_error:
            raise CellError("\n".join(errors))
        return "".join(texts) + "".join(errors)

    def start_cell(self, code: str) -> str:
        """Send a cell without waiting for it (to interrupt it later)."""
        return self.kc.execute(code)

    def wait_idle(self, msg_id: str, timeout: float = 30) -> list[str]:
        """Outputs of a cell sent with ``start_cell``, once it has finished."""
        outputs, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "error":
                outputs.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif msg["msg_type"] == "stream":
                outputs.append(msg["content"]["text"])
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return outputs
        raise AssertionError(f"cell {msg_id} still busy after {timeout} s")

    def interrupt(self) -> None:
        self.km.interrupt_kernel()

    def restart(self) -> None:
        self.km.restart_kernel(now=True)
        self.kc.wait_for_ready(timeout=60)

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    def sigkill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.km.provisioner.process.wait(10)
        self.kc.stop_channels()
        self.km.cleanup_resources()

    def close(self) -> None:
        try:
            if self.km.is_alive():
                self.kc.stop_channels()
                self.km.shutdown_kernel(now=True)
        except Exception:
            pass
