"""Exercise ch12-cli-setup: the Payments → Fraud setup with the real ``temporal`` CLI.

Outside the lab, namespaces and endpoints are created by an operator (or a CI job), not by
``lab.namespace`` and ``lab.endpoint``. Chapter 12 ran the commands; now write them.

``setup_commands(address, caller_namespace, handler_namespace, endpoint, task_queue)`` returns the
commands, in order, as argument lists (``["temporal", "operator", ...]``), that

1. create both namespaces;
2. create the endpoint ``endpoint``, routed to ``handler_namespace`` and its worker's ``task_queue``;

each against the server at ``address`` (``--address``: the CLI's default, localhost:7233, may be
another server). The check runs your commands with the real CLI and looks at what they created.
"""

from __future__ import annotations


def setup_commands(address: str, caller_namespace: str, handler_namespace: str, endpoint: str,
                   task_queue: str) -> list[list[str]]:
    # --- TODO: `temporal operator namespace create` twice, then `temporal operator nexus endpoint create`
    #           (--name, --target-namespace, --target-task-queue), each with --address
    return [
        ["temporal", "operator", "namespace", "create", "--namespace", caller_namespace, "--address", address],
        ["temporal", "operator", "namespace", "create", "--namespace", handler_namespace, "--address", address],
        ["temporal", "operator", "nexus", "endpoint", "create", "--name", endpoint,
         "--target-namespace", handler_namespace, "--target-task-queue", task_queue, "--address", address],
    ]
    # --- STARTER
    # return []
    # --- END
