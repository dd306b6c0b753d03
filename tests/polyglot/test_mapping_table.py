"""Every name in chapter 2's TypeScript ↔ Python table exists in the installed SDKs.

TypeScript names are looked up in the installed npm packages: ``pkg.name`` / bare names in the
packages' runtime exports, members and option names in their ``.d.ts`` files. Python names are
resolved in the installed temporalio / nexus-rpc.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02-services-and-contracts.ipynb"
PACKAGES = ["nexus-rpc", "@temporalio/workflow", "@temporalio/nexus", "@temporalio/worker", "@temporalio/common",
            "@temporalio/client"]
# words of the story or of JavaScript itself, not SDK names
TS_STORY = {"fraud", "v1", "checkTransaction", "Transaction", "Verdict", "fraudService", "ctx", "input", "result",
            "wf", "opts", "handler", "service", "endpoint", "client", "async", "new", "nexus"}
PY_STORY = {"Transaction", "Verdict", "FraudService", "Handler", "check_transaction", "self", "ctx", "input",
            "name", "fraud", "v1", "checkTransaction", "lab", "handle", "seconds", "await"}


def table_rows() -> list[tuple[str, str]]:
    cell = next(c for c in nbformat.read(NOTEBOOK, as_version=4).cells
                if c.cell_type == "markdown" and "| TypeScript SDK |" in c.source)
    rows = []
    for line in cell.source.splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) == 2 and "`" in line and not cols[0].startswith("---"):
            rows.append((cols[0], cols[1]))
    return rows


def spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


@pytest.fixture(scope="module")
def ts_names(ts_project) -> tuple[dict[str, set[str]], str]:
    script = f"const out = {{}}; for (const p of {json.dumps(PACKAGES)}) out[p] = Object.keys(require(p)); " \
             "console.log(JSON.stringify(out));"
    exports = json.loads(subprocess.run(["node", "-e", script], cwd=ts_project, capture_output=True, text=True,
                                        check=True).stdout)
    dts = "\n".join(p.read_text() for pkg in PACKAGES
                    for p in (ts_project / "node_modules" / pkg / "lib").rglob("*.d.ts"))
    return {k: set(v) for k, v in exports.items()}, dts


def ts_problems(code: str, exports: dict[str, set[str]], dts: str) -> list[str]:
    found = []
    everything = set().union(*exports.values())
    code = re.sub(r"'([a-z][\w.]*)'", "", code)  # string arguments like 'fraud.v1' and '10s'
    for dotted in re.findall(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", code):
        head, *members = dotted.split(".")
        if head == "nexus" and members:  # the `import * as nexus from 'nexus-rpc'` alias
            if members[0] not in exports["nexus-rpc"]:
                found.append(f"{dotted}: nexus-rpc exports no {members[0]}")
            continue
        if head in TS_STORY or head.startswith("@temporalio") or head in ("temporalio", "rpc"):
            continue
        if head[0].isupper() and head not in everything and not re.search(rf"\b{head}\b", dts):
            found.append(f"{head}: no installed package exports it")
        elif not re.search(rf"\b{head}\b", dts):
            found.append(f"{head}: not in any installed .d.ts")
        found += [f"{dotted}: no member {m}" for m in members if not re.search(rf"\b{m}\b", dts)]
    return found


def py_problems(code: str) -> list[str]:

    import nexusrpc
    from temporalio import nexus, workflow
    from temporalio.worker import Worker

    from nexus_lab.lab import Lab

    roots = {"nexusrpc": nexusrpc, "nexus": nexus, "workflow": workflow,
             "temporalio": importlib.import_module("temporalio")}
    callables = [Worker, workflow.NexusClient.execute_operation, workflow.NexusClient.start_operation,
                 workflow.create_nexus_client, nexusrpc.service, nexusrpc.Operation, nexusrpc.handler.service_handler,
                 nexus.WorkflowRunOperationContext.start_workflow, Lab.worker]
    members = {n for cls in (workflow.NexusClient, workflow.NexusOperationHandle, nexus.WorkflowRunOperationContext)
               for n in dir(cls)}
    keywords = {p for f in callables for p in inspect.signature(f).parameters} | {"seconds"}  # timedelta
    found = []
    code = re.sub(r'"[^"]*"', "", code)
    for kw in re.findall(r"(\w+)=", code):
        if kw not in keywords:
            found.append(f"{kw}=: no such parameter")
    for dotted in re.findall(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", code):
        head, *rest = dotted.split(".")
        if head in roots:
            obj = roots[head]
            for part in rest:
                try:
                    obj = getattr(obj, part) if hasattr(obj, part) else importlib.import_module(
                        f"{obj.__name__}.{part}")
                except (ImportError, AttributeError):
                    found.append(f"{dotted}: no {part}")
                    break
        elif head in PY_STORY or head in keywords or head in ("timedelta", "Worker"):
            continue
        elif head not in members:
            found.append(f"{dotted}: not a Nexus client/handle/context member")
    return found


ROWS = table_rows()


def test_the_table_is_found():
    assert len(ROWS) >= 10


@pytest.mark.parametrize("ts, py", ROWS, ids=[spans(ts)[0][:40] if spans(ts) else ts[:40] for ts, _ in ROWS])
def test_row_names_exist_in_the_installed_sdks(ts_names, ts, py):
    exports, dts = ts_names
    problems = [p for code in spans(ts) for p in ts_problems(code, exports, dts)]
    problems += [p for code in spans(py) for p in py_problems(code)]
    assert not problems, problems


def test_an_outdated_name_is_caught(ts_names):
    exports, dts = ts_names
    assert ts_problems("createNexusClient({ service, endpoint })", exports, dts)
    assert not ts_problems("createNexusServiceClient({ service, endpoint })", exports, dts)
    assert py_problems("workflow.create_nexus_service_client(service=..., endpoint=...)")
