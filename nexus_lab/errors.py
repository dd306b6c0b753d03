"""The root of Nexus Lab's own errors.

Every error the lab raises for a learner's or an author's mistake derives from
:class:`NexusLabError` *and* keeps its standard base (``ValueError``, ``TimeoutError`` …), so
``except TimeoutError`` still works and the CLI can turn every one of them into one line without
listing them by hand. The message is written for the reader: it says what happened and what to do.
"""

from __future__ import annotations


class NexusLabError(Exception):
    """Base class of every error the lab raises on purpose; its message is the whole explanation."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback (the message already says where and what to do)."""
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]
