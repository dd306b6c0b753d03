"""Make workflows written in notebook cells run inside the full workflow sandbox.

The SDK's sandbox re-imports a workflow's module from its file to check it. A class defined in a
cell lives in ``__main__``, which in a kernel has no file, so ``Worker(...)`` refuses it. Turning
the sandbox off would make it work but would also hide exactly the mistakes a course wants to
catch (``datetime.now()``, ``random``, I/O inside a workflow).

What the lab does instead: it takes the class's source from the cell that defined it, writes it
to a real module under the lab home, and imports that. The names the class uses are bound at the
top of that module:

* modules (``workflow``, ``datetime``, ...) by a real ``import``, so the sandbox gives the workflow
  its restricted versions and a forbidden call fails the workflow task with a clear message;
* classes and functions imported from a real module, the same way;
* everything defined in the notebook itself (dataclasses, service contracts, constants) is passed
  through as the very same object, so inputs and outputs keep their types.

* plain helper functions defined in cells (no decorator) are copied into the module with the
  class, so that a ``datetime.now()`` inside a helper the workflow calls is caught as well.

Code run as a script or from a ``.py`` file needs none of this.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import linecache
import sys
import types
from typing import Any

from nexus_lab.config import lab_home, write_private
from nexus_lab.errors import NexusLabError

CELL_MODULE_PREFIX = "nexus_lab_cell_"

_passed_through: dict[str, Any] = {}


class CellWorkflowError(NexusLabError, TypeError):
    """A workflow class from a cell cannot be made importable (the message says what to do)."""


def passed_through(token: str) -> Any:
    """Used by generated cell modules to reach an object defined in the notebook."""
    return _passed_through[token]


def needs_rehosting(cls: type) -> bool:
    """True for classes from a notebook's ``__main__`` (no file the sandbox could import)."""
    if cls.__module__ != "__main__":
        return False
    main = sys.modules.get("__main__")
    return main is None or not getattr(main, "__file__", None)


def _defining_source(cls: type) -> tuple[str, str]:
    """The source text and file name of the cell that defined ``cls`` (via its methods' code)."""
    for value in vars(cls).values():
        func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        code = getattr(func, "__code__", None)
        if code is None:
            continue
        lines = linecache.getlines(code.co_filename)
        if lines:
            return "".join(lines), code.co_filename
    raise CellWorkflowError(
        f"Cannot find the cell that defined {cls.__name__}: define it in a cell of its own "
        "(or in a .py file next to the notebook and import it)."
    )


def _parse_cell(source: str) -> ast.Module:
    """A cell's syntax tree (cells may ``await`` at the top level)."""
    flags = ast.PyCF_ONLY_AST | getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)
    return compile(source, "<cell>", "exec", flags=flags, dont_inherit=True)


def _class_node(source: str, name: str) -> ast.ClassDef:
    tree = _parse_cell(source)
    matches = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    if not matches:
        raise CellWorkflowError(
            f"{name} must be defined at the top level of a cell (not inside a function or class)."
        )
    return matches[-1]


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _importable_as(value: Any) -> str | None:
    """``from mod import name`` text for an object that a real module defines, if any."""
    module_name = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not module_name or not qualname or module_name in ("__main__", "builtins") or "." in qualname:
        return None
    if module_name.startswith(CELL_MODULE_PREFIX):
        return None
    module = sys.modules.get(module_name)
    if module is None or getattr(module, qualname, None) is not value:
        return None
    return f"from {module_name} import {qualname}"


def _binding_line(name: str, value: Any, token_prefix: str) -> str:
    if isinstance(value, types.ModuleType):
        return f"import {value.__name__} as {name}"
    importable = _importable_as(value)
    if importable:
        return f"{importable} as {name}"
    token = f"{token_prefix}:{name}"
    _passed_through[token] = value
    return f"{name} = _passed_through({token!r})"


def _block(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, source: str) -> tuple[str, int]:
    """The text of a top-level definition (decorators included) and its first line in the cell."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return "\n".join(source.splitlines()[first - 1:node.end_lineno]), first


def _cell_helper(name: str, value: Any) -> tuple[ast.AST, str, int] | None:
    """(node, text, first line) of a plain top-level function defined in a cell, else ``None``.

    Decorated functions (activities, operations) keep their identity and are passed through."""
    if not isinstance(value, types.FunctionType) or value.__module__ != "__main__" or value.__closure__:
        return None
    source = "".join(linecache.getlines(value.__code__.co_filename))
    if not source:
        return None
    try:
        tree = _parse_cell(source)
    except SyntaxError:
        return None
    nodes = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if not nodes or nodes[-1].decorator_list:
        return None
    text, first = _block(nodes[-1], source)
    return nodes[-1], text, first


def module_source_for(cls: type, namespace: dict[str, Any]) -> str:
    """The text of a module that defines ``cls`` (and the cell helpers it calls) as the cells did,
    bound to the notebook's other names."""
    source, filename = _defining_source(cls)
    node = _class_node(source, cls.__name__)
    class_text, first = _block(node, source)
    blocks = [(cls.__name__, class_text, first)]
    bindings: dict[str, Any] = {}
    pending, seen = sorted(_used_names(node), reverse=True), {cls.__name__}
    while pending:
        name = pending.pop()
        if name in seen or name not in namespace:
            continue  # a name bound inside a body, a builtin, or a typo the sandbox will report
        seen.add(name)
        helper = _cell_helper(name, namespace[name])
        if helper is None:
            bindings[name] = namespace[name]
            continue
        helper_node, text, helper_first = helper
        blocks.append((name, text, helper_first))
        pending.extend(sorted(_used_names(helper_node), reverse=True))
    digest = hashlib.sha1("\n".join([filename, *(text for _, text, _ in blocks)]).encode()).hexdigest()[:10]
    out = [
        f"# Generated by nexus_lab from {filename}: {cls.__name__} as its cell defined it.",
        "from nexus_lab.cells import passed_through as _passed_through",
        *(_binding_line(name, value, digest) for name, value in sorted(bindings.items())),
    ]
    for name, text, cell_first in reversed(blocks):  # helpers first, the class last
        here_first = len(out) + 3
        out += ["", f"# {ORIGIN_MARK} {name} {cell_first} {here_first} {here_first + text.count(chr(10))}", text]
    return "\n".join(out) + "\n"


ORIGIN_MARK = "nexus-lab-origin:"
"""Heads each block of a generated module: name, first line in its cell, first and last line here."""


def cell_location(generated_file: str, line: int) -> str | None:
    """Where a line of a generated module came from: "the cell defining X, line N", for messages."""
    if CELL_MODULE_PREFIX not in generated_file:
        return None
    try:
        with open(generated_file, encoding="utf-8") as handle:
            marks = [text.split()[2:] for text in handle if text.startswith(f"# {ORIGIN_MARK}")]
    except OSError:
        return None
    for name, cell_first, here_first, here_last in (m for m in marks if len(m) == 4):
        if int(here_first) <= line <= int(here_last):
            return f"the cell defining {name}, line {line - int(here_first) + int(cell_first)}"
    return None


def rehost(cls: type) -> type:
    """An importable twin of a cell-defined workflow class, so the sandbox can check it fully."""
    main = sys.modules["__main__"]
    text = module_source_for(cls, vars(main))
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    module_name = f"{CELL_MODULE_PREFIX}{cls.__name__.lower()}_{digest}"
    folder = lab_home() / "cells"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{module_name}.py"
    if not path.exists():
        write_private(path, text)  # the kernel imports it: only this user may read or change it
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(module_name)
    except Exception as err:
        raise CellWorkflowError(f"{cls.__name__} from a notebook cell could not be loaded: {err}") from err
    twin = getattr(module, cls.__name__)
    twin.__nexus_lab_original__ = cls
    return twin


def defined_in_cell(obj: Any) -> bool:
    return inspect.isclass(obj) and needs_rehosting(obj)
