"""The room's cluster as a learner's check sees it: reachable, or one line saying it is not.

An unreachable room is nobody's mistake in the exercise, so it must not become a failed check, a
progress record or an ``error`` submission for the instructor: :func:`room_address` raises
:class:`RoomUnreachableError` before any check starts, and the CLI prints it as one line.
"""

from __future__ import annotations

import socket

from nexus_lab.errors import NexusLabError

PROBE_TIMEOUT_S = 5.0


class RoomUnreachableError(NexusLabError, ConnectionError):
    """The workshop's Temporal service does not answer; nothing was checked, recorded or sent."""


def _unreachable(address: str) -> str | None:
    """Why nothing accepts a connection at ``host:port`` (``None``: something does). A plain TCP
    connect: no SDK runtime is started just to find out (TLS and keys are the check's own business)."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S):
            return None
    except ValueError:
        return "not a host:port address"
    except socket.gaierror:
        return "unknown host"
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT_S:g} s"
    except ConnectionRefusedError:
        return "connection refused"
    except OSError as err:
        return err.strerror or type(err).__name__


def room_address() -> str:
    """The room's address, once something there accepts connections."""
    from nexus_lab.config import external_connect_config

    address = external_connect_config()["target_host"]
    reason = _unreachable(address)
    if reason:
        raise RoomUnreachableError(
            f"The workshop's Temporal service at {address} cannot be reached ({reason}): nothing was checked, "
            "recorded or sent. Check TEMPORAL_ADDRESS, or ask the instructor whether the room's server is up, "
            "then check again.")
    return address
