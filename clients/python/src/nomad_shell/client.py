"""The blocking client."""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterable
from contextlib import closing
from pathlib import Path
from typing import Any, Callable, TypeVar

import grpc

from . import _common
from ._pb import jobs_pb2 as pb
from ._pb import jobs_pb2_grpc
from .errors import DeadlineExceeded, from_rpc_error

_T = TypeVar("_T")


class Client:
    """A connection to a Nomad Shell server with the caller's API key on every call.

    ``target`` is host:port (default $NOMAD_SHELL_SERVER, else localhost:8080); ``api_key`` defaults
    to $NOMAD_SHELL_API_KEY. Plaintext unless ``credentials`` are given. Use it as a context manager,
    or call ``close``.
    """

    def __init__(self, target: str | None = None, *, api_key: str | None = None,
                 credentials: grpc.ChannelCredentials | None = None,
                 rpc_timeout: float = _common.DEFAULT_RPC_TIMEOUT, watch_reconnects: int = 8) -> None:
        address = _common.target_or_env(target)
        self._channel = (grpc.secure_channel(address, credentials, options=_common.CHANNEL_OPTIONS)
                         if credentials else grpc.insecure_channel(address, options=_common.CHANNEL_OPTIONS))
        self._stub = jobs_pb2_grpc.JobServiceStub(self._channel)
        self._metadata = _common.auth_metadata(api_key)
        self._rpc_timeout = rpc_timeout
        self._watch_reconnects = watch_reconnects

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def schedule(self, task: str, *, idempotency_key: str = "", cpu_mhz: int = 0, memory_mb: int = 0,
                 disk_mb: int = 0, timeout_seconds: int = 0, egress_allow: Iterable[str] = (),
                 seed: pb.Seed | None = None, callback_url: str = "",
                 callback_events: str = "") -> pb.ScheduleResponse:
        """Queues a job for ``task``; 0 or empty resources take the server's defaults.

        With ``callback_url`` (a host on the server's allowlist, a key with a webhook secret) the job
        is POSTed there signed when it ends, or at every status change with ``callback_events="all"``.
        """
        return self._unary(self._stub.Schedule, _common.schedule_request(
            task, idempotency_key=idempotency_key, cpu_mhz=cpu_mhz, memory_mb=memory_mb, disk_mb=disk_mb,
            timeout_seconds=timeout_seconds, egress_allow=egress_allow, seed=seed,
            callback_url=callback_url, callback_events=callback_events))

    def usage(self) -> pb.Usage:
        """The calling key's jobs, today's tokens and dollars, and its limits (0: none)."""
        return self._unary(self._stub.GetUsage, pb.GetUsageRequest())

    def get(self, job_id: str) -> pb.Job:
        return self._unary(self._stub.GetJob, pb.GetJobRequest(job_id=job_id))

    def list_jobs(self, *, page_size: int = 0, page_token: str = "") -> pb.ListJobsResponse:
        """The key's jobs, newest first, a page at a time."""
        return self._unary(self._stub.ListJobs, pb.ListJobsRequest(page_size=page_size, page_token=page_token))

    def cancel(self, job_id: str) -> pb.Job:
        """Stops a job that has not ended (an ended one raises FailedPrecondition)."""
        return self._unary(self._stub.CancelJob, pb.CancelJobRequest(job_id=job_id))

    def send_message(self, job_id: str, text: str) -> pb.Job:
        """Says something to the job's agent; a paused or ended job goes on with it."""
        return self._unary(self._stub.SendMessage, pb.SendMessageRequest(job_id=job_id, text=text))

    def pause(self, job_id: str) -> pb.Job:
        """Pauses the job at the end of its current step (a queued one stays queued)."""
        return self._unary(self._stub.PauseJob, pb.PauseJobRequest(job_id=job_id))

    def resume(self, job_id: str) -> pb.Job:
        return self._unary(self._stub.ResumeJob, pb.ResumeJobRequest(job_id=job_id))

    def rollback(self, job_id: str, step: int) -> pb.Job:
        """Takes files and conversation back to just after ``step`` and leaves the job paused."""
        return self._unary(self._stub.RollbackJob, pb.RollbackJobRequest(job_id=job_id, step=step))

    def fork(self, job_id: str, step: int, text: str = "") -> pb.Job:
        """A new job from the files and conversation just after ``step``; returns the new job."""
        return self._unary(self._stub.ForkJob, pb.ForkJobRequest(job_id=job_id, step=step, text=text))

    def checkpoints(self, job_id: str) -> list[pb.Checkpoint]:
        """The steps a rollback or fork can start from, oldest first."""
        return list(self._unary(self._stub.ListCheckpoints, pb.ListCheckpointsRequest(job_id=job_id)).checkpoints)

    def watch(self, job_id: str, *, after_sequence: int = 0,
              timeout: float | None = None) -> Generator[pb.JobEvent, None, None]:
        """The job's events after ``after_sequence``, then live ones until the job ends.

        A dropped connection is resumed from the last event seen, so each event comes once and in
        order; ``Unavailable`` only after ``watch_reconnects`` tries in a row fail.
        """
        resume = _common.WatchResume(job_id, after_sequence, timeout, self._watch_reconnects)
        while True:
            call = self._stub.WatchJob(resume.request(), metadata=self._metadata, timeout=resume.timeout())
            try:
                yield from filter(resume.fresh, call)
                return
            except grpc.RpcError as e:
                pause = resume.pause_after(e)
            finally:
                call.cancel()
            time.sleep(pause)

    def wait(self, job_id: str, timeout: float | None = None) -> pb.Job:
        """The job once it stops (complete, error, cancelled or paused); DeadlineExceeded after ``timeout`` s."""
        progress = _common.WaitProgress(job_id, timeout)
        try:
            while True:
                job = self._unary(self._stub.GetJob, pb.GetJobRequest(job_id=job_id), progress.deadline)
                if job.status in _common.STOPPED:
                    return job
                with closing(self.watch(job_id, after_sequence=progress.after_sequence,
                                        timeout=progress.deadline.remaining())) as events:
                    for event in events:
                        if progress.stops(event):
                            break
        except DeadlineExceeded:
            raise progress.deadline.exceeded() from None

    def download(self, job_id: str, path: str | os.PathLike[str], *, timeout: float | None = None) -> Path:
        """Writes the job's zip to ``path`` (a directory gets ``<job_id>.zip``) and returns where."""
        artifact = _common.ArtifactFile(path, job_id)
        call = self._stub.DownloadArtifact(pb.DownloadArtifactRequest(job_id=job_id),
                                           metadata=self._metadata, timeout=timeout)
        try:
            with artifact as out:
                for chunk in call:
                    out.write(chunk.data)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        return artifact.path

    def _unary(self, method: Callable[..., _T], request: Any, deadline: _common.Deadline | None = None) -> _T:
        timeout = deadline.remaining(self._rpc_timeout) if deadline else self._rpc_timeout
        try:
            return method(request, metadata=self._metadata, timeout=timeout)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
