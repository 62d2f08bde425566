"""What the sync and the asyncio clients share: where to connect, the key, requests, the watch's resume."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

import grpc

from ._pb import jobs_pb2 as pb
from .errors import DeadlineExceeded, from_rpc_error

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
                     seed: pb.Seed | None = None, callback_url: str = "",
                     callback_events: str = "") -> pb.ScheduleRequest:
    request = pb.ScheduleRequest(task=task, idempotency_key=idempotency_key, cpu_mhz=cpu_mhz,
                                 memory_mb=memory_mb, disk_mb=disk_mb, timeout_seconds=timeout_seconds,
                                 callback_url=callback_url, callback_events=callback_events)
    request.egress.allow.extend(egress_allow)
    if seed is not None:
        request.seed.CopyFrom(seed)
    return request


class ArtifactFile:
    """Where a download goes: ``path`` (a directory gets ``<job_id>.zip``), written beside it as
    ``.part`` and moved there only once whole."""

    def __init__(self, path: str | os.PathLike[str], job_id: str) -> None:
        target = Path(path)
        self.path = target / f"{job_id}.zip" if target.is_dir() else target
        self._partial = self.path.with_name(self.path.name + ".part")
        self._out: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        self._out = open(self._partial, "wb")
        return self._out

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        assert self._out is not None
        self._out.close()
        if error_type is None:
            self._partial.replace(self.path)
        else:
            self._partial.unlink(missing_ok=True)


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


class WatchResume:
    """A watch's progress: asks again from the last event seen, drops any repeat, and retries a
    dropped connection (UNAVAILABLE) a few times in a row with growing pauses."""

    def __init__(self, job_id: str, after_sequence: int, timeout: float | None, attempts: int) -> None:
        self._job_id = job_id
        self._last = after_sequence
        self._deadline = Deadline(timeout, f"watching job {job_id}")
        self._attempts = attempts
        self._failed = 0

    def request(self) -> pb.WatchJobRequest:
        return pb.WatchJobRequest(job_id=self._job_id, after_sequence=self._last)

    def timeout(self) -> float | None:
        return self._deadline.remaining()

    def fresh(self, event: pb.JobEvent) -> bool:
        """Whether the event is new (and to be passed on)."""
        if event.sequence <= self._last:
            return False
        self._last = event.sequence
        self._failed = 0
        return True

    def pause_after(self, error: grpc.RpcError) -> float:
        """Seconds to wait before asking again; raises the error's exception when it is not retried."""
        self._deadline.remaining()  # past it, the server may say CANCELLED: raises DeadlineExceeded instead
        if error.code() != grpc.StatusCode.UNAVAILABLE or self._failed >= self._attempts:
            raise from_rpc_error(error) from None
        pause = min(0.1 * 2 ** self._failed, 5.0)
        self._failed += 1
        return min(pause, self._deadline.remaining() or pause)


class WaitProgress:
    """What ``wait`` has seen: it asks for the job, and while the job runs, watches for a status
    that stops it (a replayed old one only makes it ask again)."""

    def __init__(self, job_id: str, timeout: float | None) -> None:
        self.deadline = Deadline(timeout, f"job {job_id}")
        self.after_sequence = 0

    def stops(self, event: pb.JobEvent) -> bool:
        self.after_sequence = event.sequence
        return event.status_changed.status in STOPPED
