"""``nexus-lab workshop serve|report``: the instructor's two commands."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
import time
from pathlib import Path

from nexus_lab.course.progress import atomic_write_text
from nexus_lab.workshop.ledger import Ledger, ensure_classroom_endpoint, open_classroom
from nexus_lab.workshop.report import class_report

LOOPBACK = "127.0.0.1"
ENDPOINT_WATCH_S = 2.0


def is_loopback(ip: str) -> bool:
    try:
        return ip == "localhost" or ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def exposure_warning(ip: str) -> str:
    """Said whenever the room's server listens beyond this machine: nothing protects it."""
    return (f"Warning: listening on {ip}, so anyone who can reach this machine can use the Temporal dev server, "
            "which has no authentication: the Web UI, every learner's namespaces and histories, and the Nexus "
            "Registry. Serve only on a network you trust, and only for the workshop.")


async def serve_classroom(port: int, ip: str, ledger: Ledger, *, existing: bool = False) -> None:
    """``nexus-lab workshop serve``: shared server (or, with ``existing``, the cluster envconfig names)
    + classroom service, until interrupted. The classroom endpoint is put back whenever someone
    changes or deletes it on the server."""
    import nexus_lab
    from nexus_lab.connection import connect_client
    from nexus_lab.lab import Lab
    from nexus_lab.server import start_embedded_server

    if existing:
        lab = await nexus_lab.connect()
        where = f"the room's cluster at {lab.address} (learners use the same profile or TEMPORAL_* settings)"
    else:
        server = await start_embedded_server(port, ip=ip, reuse=False)
        lab = Lab(await connect_client(server.address), server=server)
        host = ip if ip not in ("0.0.0.0", "::") else "<this machine's address>"
        reach = "" if not is_loopback(ip) else "   (this machine only: --ip 0.0.0.0 serves the room)"
        where = (f"  export TEMPORAL_ADDRESS={host}:{server.port} NEXUS_LAB_LEARNER=<your-name>{reach}\n"
                 f"Web UI: http://{host}:{server.ui_port}")
    try:
        await open_classroom(lab, ledger)
        print(f"Workshop server ready. Learners run:\n{where}   Class report: nexus-lab workshop report\n"
              f"Ledger: {ledger.path}   Press Ctrl+C to end the workshop.", flush=True)
        while lab.server is None or lab.server.is_running():
            await asyncio.sleep(ENDPOINT_WATCH_S)
            change = await ensure_classroom_endpoint(lab)
            if change != "unchanged":
                print(f"Warning: the classroom endpoint had been changed or deleted on the server; {change} it "
                      "again.", file=sys.stderr, flush=True)
    finally:
        await lab.stop()


def workshop_main(argv: list[str]) -> int:
    """``nexus-lab workshop serve|report`` (instructor side)."""
    from nexus_lab.config import DEFAULT_PORT

    parser = argparse.ArgumentParser(prog="nexus-lab workshop", description="Run a workshop on one shared cluster.")
    sub = parser.add_subparsers(dest="action", required=True)
    serve = sub.add_parser("serve", help="start the room's dev server and the classroom service")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--ip", default=LOOPBACK,
                       help="address to listen on (default: this machine only; 0.0.0.0 serves the whole room, "
                            "without authentication)")
    serve.add_argument("--ledger", type=Path, help="where submissions are kept")
    serve.add_argument("--existing", action="store_true",
                       help="no dev server: use the cluster the Temporal profile / TEMPORAL_* settings name")
    provision = sub.add_parser("provision", help="create learners' namespaces ahead (a cluster learners "
                                                  "cannot create namespaces on), and show their scope names")
    provision.add_argument("names", nargs="*", help="learner names as they will type them")
    provision.add_argument("--roster", type=Path, help="a file with one learner name per line")
    provision.add_argument("--namespaces", default="default,payments,fraud",
                           help="comma-separated namespaces each learner gets (default: %(default)s)")
    report = sub.add_parser("report", help="show the class table from the ledger")
    report.add_argument("--ledger", type=Path, help="the ledger `serve` writes")
    report.add_argument("--html", type=Path, help="also write the table as an HTML page (it reloads itself)")
    report.add_argument("--watch", type=float, metavar="SECONDS", help="redraw every SECONDS until Ctrl+C")
    args = parser.parse_args(argv)
    if args.action == "provision":
        names = list(args.names) + (args.roster.read_text().splitlines() if args.roster else [])
        return asyncio.run(provision_learners([n for n in names if n.strip()], args.namespaces.split(",")))
    ledger = Ledger(args.ledger)
    if args.action == "serve":
        if not args.existing and not is_loopback(args.ip):
            print(exposure_warning(args.ip), file=sys.stderr, flush=True)
        try:
            asyncio.run(serve_classroom(args.port, args.ip, ledger, existing=args.existing))
        except KeyboardInterrupt:
            print("Workshop server stopped.")
        return 0
    try:
        while True:
            _show_report(ledger, args.html, clear=bool(args.watch))
            if not args.watch:
                return 0
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return 0


async def provision_learners(names: list[str], namespaces: list[str]) -> int:
    """Each learner's namespaces on the cluster envconfig names, created ahead by the instructor; names
    that cannot be used, or that two people would share once normalised, are reported, not created."""
    import nexus_lab
    from nexus_lab.workshop.scope import Scope, ScopeError, normalise_learner

    slugs: dict[str, str] = {}
    problems = []
    for name in names:
        try:
            slug = normalise_learner(name)
        except ScopeError as err:
            problems.append(str(err))
            continue
        if slug in slugs:
            problems.append(f"{name!r} and {slugs[slug]!r} would share the scope {slug!r}: ask one to add a letter.")
            continue
        slugs[slug] = name
    lab = await nexus_lab.connect()
    try:
        for slug, name in slugs.items():
            created = [await lab.namespace(Scope(slug).namespace(ns.strip())) for ns in namespaces if ns.strip()]
            print(f"{name} → NEXUS_LAB_LEARNER scope {slug!r}: " + ", ".join(str(c) for c in created), flush=True)
    finally:
        await lab.stop()
    for problem in problems:
        print(f"Not provisioned: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _show_report(ledger: Ledger, html_path: Path | None, *, clear: bool) -> None:
    """Print the class table (and refresh the HTML page): the instructor's live view."""
    table = class_report(ledger.records())
    if clear:
        print("\033[2J\033[H", end="")
        print(time.strftime("Class report at %H:%M:%S (Ctrl+C to stop)"))
    print(table.text() if table.learners else f"No submissions yet in {ledger.path}.", flush=True)
    if html_path:
        atomic_write_text(html_path, table.html())
        print(f"HTML report: {html_path}")
