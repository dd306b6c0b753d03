"""Prints how long each chapter notebook took under nbval (the course must run in under 2 minutes)."""

from __future__ import annotations

NOTEBOOK_TIMES: dict[str, float] = {}   # each notebook's own run, start to end
WALL_TIME = {"total": 0.0}               # all notebooks, wall clock (they run side by side)
BUDGET_S = 120.0


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not NOTEBOOK_TIMES:
        return
    write = terminalreporter.write_line
    terminalreporter.section("chapter notebooks under nbval")
    width = max(len(name) for name in NOTEBOOK_TIMES)
    for name, seconds in NOTEBOOK_TIMES.items():
        write(f"{name:<{width}}  {seconds:6.1f} s")
    write(f"{'sum':<{width}}  {sum(NOTEBOOK_TIMES.values()):6.1f} s")
    write(f"{'wall clock':<{width}}  {WALL_TIME['total']:6.1f} s  (budget {BUDGET_S:.0f} s, "
          f"{len(NOTEBOOK_TIMES)} notebooks)")
