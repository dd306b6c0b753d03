"""The text fallback every Nexus Lab widget carries: what nbval, a terminal or a screen reader gets.

ipywidgets puts ``repr(widget)`` cut to 110 characters into a displayed widget's ``text/plain``,
which would leave nbval and plain-text front ends with half a sentence. Widgets here mix in
:class:`TextFallback` and implement ``text()``: the full text goes into ``text/plain`` and ``repr``,
and it states the same facts the graphical view shows.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

STATUS_MARKS = {"passed": "[x]", "failed": "[!]", "pending": "[ ]"}
"""An exercise's status as one mark of fixed width: plain ASCII, so it renders in any font of any
browser or terminal (emoji marks showed as empty boxes in a stock Linux Chromium) and keeps
``nexus-lab list`` columns aligned."""


LIVE_WIDGET_CLASS = "nexus-lab-widget"
FALLBACK_CLASS = "nexus-lab-fallback"
REVIVE_NOTE = ("These controls need this notebook's kernel, which has ended or restarted: "
               "run this cell again to bring them back.")


def fallback_block(inner_html: str) -> str:
    """The stand-in output that follows a widget: CSS hides it while the output before it holds a live
    widget (``:has``), so it only appears where the widget cannot be drawn any more."""
    hide = (f".jp-OutputArea-child:has(.{LIVE_WIDGET_CLASS}) + .jp-OutputArea-child .{FALLBACK_CLASS}"
            "{display:none}")
    return (f"<style>{hide}</style><div class=\"{FALLBACK_CLASS}\" style=\"opacity:.85\">"
            f"<p><i>{html.escape(REVIVE_NOTE)}</i></p>{inner_html}</div>")


class TextFallback:
    """Mixin for ``ipywidgets`` widgets: full ``text()`` as ``repr`` and as the ``text/plain`` output."""

    def text(self) -> str:  # pragma: no cover - every widget overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.text()

    def fallback_html(self) -> str:
        """What the page shows when the widget's kernel is gone (override for a richer form)."""
        return f"<pre>{html.escape(self.text())}</pre>"

    def _ipython_display_(self) -> None:
        """The widget, then its stand-in: hidden while the widget lives, shown in its place after a
        kernel end or restart, where JupyterLab would only say "Error displaying widget: model not found"."""
        from IPython.display import display

        self.add_class(LIVE_WIDGET_CLASS)  # type: ignore[attr-defined]
        bundle = self._repr_mimebundle_()
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        display(data, metadata=metadata, raw=True)
        display({"text/html": fallback_block(self.fallback_html())}, raw=True)

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


def html_paragraphs(text: str, *, code: bool = False) -> str:
    """Plain text as escaped HTML, one line per line (feedback texts carry their own line breaks);
    ``code``: `backticked` spans as inline code, as hints write them."""
    lines = (html.escape(line) for line in text.splitlines())
    if code:
        lines = (re.sub(r"`([^`]+)`", r"<code>\1</code>", line) for line in lines)
    return "<br>".join(lines)
