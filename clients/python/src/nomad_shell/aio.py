"""The asyncio client (grpc.aio): the same calls as ``Client``, awaited."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

import grpc
import grpc.aio

from . import _common
from ._pb import jobs_pb2 as pb
from ._pb import jobs_pb2_grpc
from .errors import DeadlineExceeded, from_rpc_error

_T = TypeVar("_T")


class AsyncClient:
    """Like ``Client`` (same arguments and environment), for ``async with`` / ``await``."""

    def __init__(self, target: str | None = None, *, api_key: str | None = None,
                 credentials: grpc.ChannelCredentials | None = None,
                 rpc_timeout: float = _common.DEFAULT_RPC_TIMEOUT, watch_reconnects: int = 8) -> None:
        address = _common.target_or_env(target)
        self._channel = (grpc.aio.secure_channel(address, credentials, options=_common.CHANNEL_OPTIONS)
                         if credentials else grpc.aio.insecure_channel(address, options=_common.CHANNEL_OPTIONS))
        self._stub = jobs_pb2_grpc.JobServiceStub(self._channel)
        self._metadata = _common.auth_metadata(api_key)
        self._rpc_timeout = rpc_timeout
        self._watch_reconnects = watch_reconnects

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def schedule(self, task: str, *, idempotency_key: str = "", cpu_mhz: int = 0, memory_mb: int = 0,
                       disk_mb: int = 0, timeout_seconds: int = 0, egress_allow: Iterable[str] = (),
                       seed: pb.Seed | None = None, callback_url: str = "",
                       callback_events: str = "") -> pb.ScheduleResponse:
        """Queues a job for ``task``; 0 or empty resources take the server's defaults.

        With ``callback_url`` (a host on the server's allowlist, a key with a webhook secret) the job
        is POSTed there signed when it ends, or at every status change with ``callback_events="all"``.
        """
        return await self._unary(self._stub.Schedule, _common.schedule_request(
            task, idempotency_key=idempotency_key, cpu_mhz=cpu_mhz, memory_mb=memory_mb, disk_mb=disk_mb,
            timeout_seconds=timeout_seconds, egress_allow=egress_allow, seed=seed,
            callback_url=callback_url, callback_events=callback_events))

    async def usage(self) -> pb.Usage:
        """The calling key's jobs, today's tokens and dollars, and its limits (0: none)."""
        return await self._unary(self._stub.GetUsage, pb.GetUsageRequest())

    async def get(self, job_id: str) -> pb.Job:
        return await self._unary(self._stub.GetJob, pb.GetJobRequest(job_id=job_id))

    async def list_jobs(self, *, page_size: int = 0, page_token: str = "") -> pb.ListJobsResponse:
        return await self._unary(self._stub.ListJobs, pb.ListJobsRequest(page_size=page_size, page_token=page_token))

    async def cancel(self, job_id: str) -> pb.Job:
        return await self._unary(self._stub.CancelJob, pb.CancelJobRequest(job_id=job_id))

    async def send_message(self, job_id: str, text: str) -> pb.Job:
        return await self._unary(self._stub.SendMessage, pb.SendMessageRequest(job_id=job_id, text=text))

    async def pause(self, job_id: str) -> pb.Job:
        return await self._unary(self._stub.PauseJob, pb.PauseJobRequest(job_id=job_id))

    async def resume(self, job_id: str) -> pb.Job:
        return await self._unary(self._stub.ResumeJob, pb.ResumeJobRequest(job_id=job_id))

    async def rollback(self, job_id: str, step: int) -> pb.Job:
        return await self._unary(self._stub.RollbackJob, pb.RollbackJobRequest(job_id=job_id, step=step))

    async def fork(self, job_id: str, step: int, text: str = "") -> pb.Job:
        return await self._unary(self._stub.ForkJob, pb.ForkJobRequest(job_id=job_id, step=step, text=text))

    async def checkpoints(self, job_id: str) -> list[pb.Checkpoint]:
        response = await self._unary(self._stub.ListCheckpoints, pb.ListCheckpointsRequest(job_id=job_id))
        return list(response.checkpoints)

    async def watch(self, job_id: str, *, after_sequence: int = 0,
                    timeout: float | None = None) -> AsyncGenerator[pb.JobEvent, None]:
        """The job's events after ``after_sequence``, resumed after a disconnect (see ``Client.watch``)."""
        resume = _common.WatchResume(job_id, after_sequence, timeout, self._watch_reconnects)
        while True:
            call = self._stub.WatchJob(resume.request(), metadata=self._metadata, timeout=resume.timeout())
            try:
                async for event in call:
                    if resume.fresh(event):
                        yield event
                return
            except grpc.aio.AioRpcError as e:
                pause = resume.pause_after(e)
            finally:
                call.cancel()
            await asyncio.sleep(pause)

    async def wait(self, job_id: str, timeout: float | None = None) -> pb.Job:
        """The job once it stops (complete, error, cancelled or paused); DeadlineExceeded after ``timeout`` s."""
        progress = _common.WaitProgress(job_id, timeout)
        try:
            while True:
                job = await self._unary(self._stub.GetJob, pb.GetJobRequest(job_id=job_id), progress.deadline)
                if job.status in _common.STOPPED:
                    return job
                async with aclosing(self.watch(job_id, after_sequence=progress.after_sequence,
                                               timeout=progress.deadline.remaining())) as events:
                    async for event in events:
                        if progress.stops(event):
                            break
        except DeadlineExceeded:
            raise progress.deadline.exceeded() from None

    async def download(self, job_id: str, path: str | os.PathLike[str], *, timeout: float | None = None) -> Path:
        """Writes the job's zip to ``path`` (a directory gets ``<job_id>.zip``) and returns where."""
        artifact = _common.ArtifactFile(path, job_id)
        call = self._stub.DownloadArtifact(pb.DownloadArtifactRequest(job_id=job_id),
                                           metadata=self._metadata, timeout=timeout)
        try:
            with artifact as out:
                async for chunk in call:
                    out.write(chunk.data)
        except grpc.aio.AioRpcError as e:
            raise from_rpc_error(e) from None
        return artifact.path

    async def _unary(self, method: Callable[..., Awaitable[_T]], request: Any,
                     deadline: _common.Deadline | None = None) -> _T:
        timeout = deadline.remaining(self._rpc_timeout) if deadline else self._rpc_timeout
        try:
            return await method(request, metadata=self._metadata, timeout=timeout)
        except grpc.aio.AioRpcError as e:
            raise from_rpc_error(e) from None
