"""What the sync and the asyncio clients share: where to connect, the key, requests, the watch's resume."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from ._pb import jobs_pb2 as pb
from .errors import DeadlineExceeded

DEFAULT_TARGET = "localhost:8080"
# Unary calls; streams (watch, download) take the caller's timeout, none by default.
DEFAULT_RPC_TIMEOUT = 30.0
# Statuses after which a job does nothing until someone acts (what ``wait`` waits for).
STOPPED = frozenset({"complete", "error", "cancelled", "paused"})
# The server's chunks are 64 KiB; this leaves room for larger ones.
CHANNEL_OPTIONS: Sequence[tuple[str, int]] = (("grpc.max_receive_message_length", 8 * 1024 * 1024),)


def target_or_env(target: str | None) -> str:
    """host:port as given, else $NOMAD_SHELL_SERVER, else localhost:8080 (as the CLI)."""
    return target or os.environ.get("NOMAD_SHELL_SERVER") or DEFAULT_TARGET


def auth_metadata(api_key: str | None) -> tuple[tuple[str, str], ...]:
    """The key as given (``""``: none), else $NOMAD_SHELL_API_KEY, sent as ``authorization: Bearer``."""
    key = os.environ.get("NOMAD_SHELL_API_KEY", "") if api_key is None else api_key
    return (("authorization", f"Bearer {key}"),) if key else ()


def schedule_request(task: str, *, idempotency_key: str = "", cpu_mhz: int = 0, memory_mb: int = 0,
                     disk_mb: int = 0, timeout_seconds: int = 0, egress_allow: Iterable[str] = (),
                     seed: pb.Seed | None = None) -> pb.ScheduleRequest:
    request = pb.ScheduleRequest(task=task, idempotency_key=idempotency_key, cpu_mhz=cpu_mhz,
                                 memory_mb=memory_mb, disk_mb=disk_mb, timeout_seconds=timeout_seconds)
    request.egress.allow.extend(egress_allow)
    if seed is not None:
        request.seed.CopyFrom(seed)
    return request


def artifact_path(path: str | os.PathLike[str], job_id: str) -> Path:
    """A file path as given; a directory gets ``<job_id>.zip`` in it."""
    target = Path(path)
    return target / f"{job_id}.zip" if target.is_dir() else target


class Deadline:
    """An overall timeout across several calls; ``None`` never runs out."""

    def __init__(self, timeout: float | None, what: str) -> None:
        self._end = None if timeout is None else time.monotonic() + timeout
        self._timeout = timeout
        self._what = what

    def remaining(self, cap: float | None = None) -> float | None:
        """Seconds left (at most ``cap``); raises DeadlineExceeded once none are."""
        if self._end is None:
            return cap
        left = self._end - time.monotonic()
        if left <= 0:
            raise self.exceeded()
        return left if cap is None else min(left, cap)

    def exceeded(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"{self._what} did not finish within {self._timeout:g} s")


class Reconnects:
    """How a watch retries after a disconnect: a few tries with growing pauses, counted afresh after each event."""

    def __init__(self, attempts: int) -> None:
        self._attempts = attempts
        self._failed = 0

    def event_arrived(self) -> None:
        self._failed = 0

    def next_pause(self) -> float | None:
        """Seconds to wait before the next try, or None when the tries are used up."""
        if self._failed >= self._attempts:
            return None
        pause = min(0.1 * 2 ** self._failed, 5.0)
        self._failed += 1
        return pause
