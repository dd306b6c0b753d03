"""Learner scoping for workshops: thirty people, one cluster, no collisions.

On a shared cluster every namespace name and every Nexus endpoint name is global. With
``NEXUS_LAB_LEARNER=alice`` the lab prefixes both: ``lab.namespace("payments")`` creates
``alice--payments`` and ``lab.endpoint("fraud-detection", ...)`` registers ``alice--fraud-detection``.
Task queues and workflow IDs live inside namespaces, so they are scoped for free.

The separator ``--`` is one a learner name can never contain, so the learner a name belongs to is
everything before its first ``--``: ``alice-fraud`` + ``detection`` can never be ``alice`` +
``fraud-detection``. Names are normalised (NFKC, casefold) before they become that prefix; a name
with letters beyond ASCII is Punycode-encoded behind ``xn-`` (``Zoë`` → ``xn-zo-tja``), so Zoë, Zoé
and zo stay three people. :class:`Scope` is the only place this naming rule lives.

Workflow code keeps saying ``endpoint="fraud-detection"``: the lab's workers carry an interceptor
that rewrites the endpoint of every Nexus operation a workflow starts to the learner's own. The
history therefore shows the scoped name, which is the lesson: an endpoint is a cluster-wide entry
in the Nexus Registry, and a caller names it, not a namespace.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from temporalio.worker import (
    Interceptor,
    StartNexusOperationInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from nexus_lab.errors import NexusLabError

SEPARATOR = "--"
"""Between a scope and a name. Endpoint names allow only letters, digits and ``-`` (the server's
rule), so the separator is a double dash and learner names are refused one."""
ENCODED = "xn-"
"""Marks a learner name written in Punycode; a plain ASCII name may not start with it."""
MAX_SLUG = 40
UNSCOPED_ENDPOINTS = frozenset({"classroom"})
"""Endpoints every learner calls on purpose (the instructor's classroom service), never writes."""

_WORD_JOINERS = frozenset(" -_.'’")
_ASCII_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_WORD_SEP_IN_PUNYCODE = "\u00b7"  # non-ASCII, so Punycode never copies it: the output keeps a single dash


class ScopeError(NexusLabError, ValueError):
    """The learner name cannot be used in namespace and endpoint names, or a name is not theirs."""


def _script(char: str) -> str:
    """The script a letter belongs to (``LATIN``, ``CYRILLIC``…), from its Unicode name."""
    return unicodedata.name(char, "UNKNOWN").split(" ")[0]


def normalise_learner(name: str) -> str:
    """The learner's scope prefix: ``"Alice Smith"`` → ``"alice-smith"``, ``"Zoë"`` → ``"xn-zo-tja"``.

    Refused (:class:`ScopeError`): control or invisible characters, symbols, letters of two
    scripts in one name (``аlice`` with a Cyrillic ``а`` would look like ``alice`` in the class
    report), a first character that is not a letter, ``--``-free names over 40 characters, and
    ASCII names starting with ``xn-`` (the encoded form's mark)."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    words, word = [], ""
    for char in text:
        if char in _WORD_JOINERS:
            if word:
                words.append(word)
            word = ""
        elif unicodedata.category(char)[0] in "LN":
            word += char
        else:
            raise ScopeError(f"Learner name {name!r} contains {unicodedata.name(char, repr(char))}: "
                             "use letters, digits, spaces or dashes.")
    words += [word] if word else []
    scripts = {_script(c) for c in "".join(words) if unicodedata.category(c)[0] == "L"}
    if len(scripts) > 1:
        raise ScopeError(f"Learner name {name!r} mixes letters of {' and '.join(sorted(scripts))}: "
                         "use one alphabet, so nobody else's name can look like yours.")
    if not words or not words[0][0].isalpha():
        raise ScopeError(f"Learner name {name!r} must start with a letter.")
    plain = "-".join(words)
    if plain.isascii():
        slug = plain
        if slug.startswith(ENCODED):
            raise ScopeError(f"Learner name {name!r} may not start with {ENCODED!r} (reserved for encoded names).")
    else:
        slug = ENCODED + _WORD_SEP_IN_PUNYCODE.join(words).encode("punycode").decode("ascii")
    if len(slug) > MAX_SLUG or not (_ASCII_SLUG.match(slug) or slug.startswith(ENCODED)):
        raise ScopeError(f"Learner name {name!r} is too long for namespace names: keep it under 30 letters.")
    return slug


def display_learner(slug: str) -> str:
    """The learner name as typed (less case and spacing) from its scope prefix, for reports."""
    if not slug.startswith(ENCODED):
        return slug
    try:
        return slug[len(ENCODED):].encode("ascii").decode("punycode").replace(_WORD_SEP_IN_PUNYCODE, " ")
    except (UnicodeError, ValueError):
        return slug


def learner_of(name: str) -> str | None:
    """The learner a namespace or endpoint name belongs to (``alice--payments`` → ``alice``), if any."""
    head, sep, _ = name.partition(SEPARATOR)
    if not sep:
        return None
    try:
        return head if normalise_learner(display_learner(head)) == head else None
    except ScopeError:
        return None


@dataclass(frozen=True)
class Scope:
    """How one learner's names map onto the shared cluster (no learner: names pass unchanged).

    ``run`` adds a sub-scope for one check (``alice--chk-1a2b3c4d--payments``), so a check's
    names are the learner's too and vanish with the check."""

    learner: str | None = None
    run: str | None = None

    @property
    def prefix(self) -> str:
        return "".join(part + SEPARATOR for part in (self.learner, self.run) if part)

    def for_check(self, run_id: str) -> Scope:
        """This learner's scope for one check run (its own names, removed afterwards)."""
        return Scope(self.learner, f"chk-{run_id}")

    def owns(self, name: str) -> bool:
        """Whether ``name`` (a namespace or endpoint on the cluster) is inside this scope."""
        return name.startswith(self.prefix)

    def _scoped(self, name: str) -> str:
        return name if self.owns(name) else self.prefix + name

    def namespace(self, name: str) -> str:
        return self._scoped(name)

    def endpoint(self, name: str) -> str:
        """The endpoint a name reaches (the shared classroom endpoint stays shared)."""
        return name if name in UNSCOPED_ENDPOINTS else self._scoped(name)

    def own_endpoint(self, name: str) -> str:
        """The endpoint name to create, change or delete; refused when it is not this scope's own
        (the instructor's ``classroom``, say): a learner writes only their own registry entries."""
        scoped = self.endpoint(name)
        if not self.owns(scoped):
            raise ScopeError(f"Endpoint {name!r} is shared by the whole room: as learner "
                             f"{display_learner(self.learner or '')!r} you can create, change or delete only "
                             f"your own endpoints ({self.prefix}<name>). Pick another name.")
        return scoped

    def unscoped(self, text: str) -> str:
        """A name, or a message quoting names, as the learner wrote them: this scope's prefix removed."""
        if not self.prefix or not isinstance(text, str):
            return text
        return re.sub(r"(?<![A-Za-z0-9-])" + re.escape(self.prefix), "", text)

    def describe(self) -> str:
        if not self.prefix:
            return ""
        return (f"Learner scope {self.learner!r}: namespaces and endpoints you create are named "
                f"{self.prefix}<name> on the shared cluster; your workflows' Nexus calls are routed "
                "to your own endpoints.")

    def interceptors(self) -> list[Interceptor]:
        return [ScopedEndpoints(self)] if self.prefix else []


def scope_from_environment() -> Scope:
    learner = os.environ.get("NEXUS_LAB_LEARNER", "").strip()
    return Scope(normalise_learner(learner)) if learner else Scope()


class ScopedEndpoints(Interceptor):
    """Worker interceptor: a workflow's ``create_nexus_client(endpoint=...)`` reaches the learner's endpoint."""

    def __init__(self, scope: Scope):
        self.scope = scope

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        scope = self.scope

        class _Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(_Outbound(outbound, scope))

        return _Inbound


class _Outbound(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, scope: Scope):
        super().__init__(next)
        self._scope = scope

    async def start_nexus_operation(self, input: StartNexusOperationInput[Any, Any]) -> Any:
        input.endpoint = self._scope.endpoint(input.endpoint)
        return await super().start_nexus_operation(input)
