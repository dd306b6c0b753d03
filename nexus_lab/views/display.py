"""The text fallback every Nexus Lab widget carries: what nbval, a terminal or a screen reader gets.

ipywidgets puts ``repr(widget)`` cut to 110 characters into a displayed widget's ``text/plain``,
which would leave nbval and plain-text front ends with half a sentence. Widgets here mix in
:class:`TextFallback` and implement ``text()``: the full text goes into ``text/plain`` and ``repr``,
and it states the same facts the graphical view shows.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

STATUS_MARKS = {"passed": "[x]", "failed": "[!]", "pending": "[ ]"}
"""An exercise's status as one mark of fixed width: plain ASCII, so it renders in any font of any
browser or terminal (emoji marks showed as empty boxes in a stock Linux Chromium) and keeps
``nexus-lab list`` columns aligned."""


class TextFallback:
    """Mixin for ``ipywidgets`` widgets: full ``text()`` as ``repr`` and as the ``text/plain`` output."""

    def text(self) -> str:  # pragma: no cover - every widget overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        if isinstance(bundle, tuple):  # (data, metadata)
            data, metadata = bundle
            return {**data, "text/plain": self.text()}, metadata
        if bundle is None:
            return {"text/plain": self.text()}
        return {**bundle, "text/plain": self.text()}


def workflow_ui_url(ui_base: str, namespace: str, workflow_id: str, run_id: str | None = None) -> str:
    """The Temporal Web UI page of one workflow (its latest run unless ``run_id``) in its namespace.

    The UI's own scheme: ``/namespaces/<ns>/workflows/<id>[/<run id>/history]``; the root alone
    shows namespace ``default`` only, where the course's runs never are.
    """
    url = f"{ui_base.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"
    return f"{url}/{quote(run_id, safe='')}/history" if run_id else url


def ui_link_html(url: str | None, label: str = "open in the Web UI") -> str:
    """An HTML link to a Web UI page (empty without a UI, e.g. on a cluster the lab did not start)."""
    if not url:
        return ""
    return f' <a href="{html.escape(url)}" target="_blank" rel="noopener">{html.escape(label)}</a>'


def html_paragraphs(text: str) -> str:
    """Plain text as escaped HTML, one line per line (feedback texts carry their own line breaks)."""
    return "<br>".join(html.escape(line) for line in text.splitlines())
