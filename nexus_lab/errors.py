"""The root of Nexus Lab's own errors.

Every error the lab raises for a learner's or an author's mistake derives from
:class:`NexusLabError` *and* keeps its standard base (``ValueError``, ``TimeoutError`` …), so
``except TimeoutError`` still works and the CLI can turn every one of them into one line without
listing them by hand. The message is written for the reader: it says what happened and what to do.
"""

from __future__ import annotations

import os
import re

_SECRET_NAME = re.compile(r"API_KEY|SECRET|TOKEN|PASSWORD|CLIENT_KEY", re.IGNORECASE)
_SECRET_SETTING = re.compile(
    r"((?:api[_-]?key|password|secret|token|authorization)[\"']?\s*[=:]\s*[\"']?(?:bearer\s+)?|bearer\s+)([^\s\"',}]+)",
    re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """``text`` with API keys and the like replaced by ``***``: the values of secret-named environment
    variables, and whatever follows ``api_key =`` or ``Bearer`` (a TOML parse error quotes the line)."""
    for name, value in os.environ.items():
        if len(value) >= 6 and _SECRET_NAME.search(name) and value in text:
            text = text.replace(value, "***")
    return _SECRET_SETTING.sub(lambda m: m.group(1) + "***", text)


class NexusLabError(Exception):
    """Base class of every error the lab raises on purpose; its message is the whole explanation
    (secrets masked: it is printed, logged and sent to the instructor)."""

    def __init__(self, *args: object):
        super().__init__(*(mask_secrets(a) if isinstance(a, str) else a for a in args))

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback (the message already says where and what to do)."""
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]
