"""The asyncio client against a real server (started by PythonSdkTest)."""

from __future__ import annotations

import asyncio
import zipfile
from pathlib import Path

import pytest

from conftest import API_KEY, SERVER, TASK, UNKNOWN_JOB, CuttableProxy, await_gate, open_gate
from nomad_shell import AsyncClient, DeadlineExceeded, FailedPrecondition, JobEvent, NotFound, Unauthenticated


@pytest.mark.asyncio
async def test_schedule_watch_through_a_disconnect_and_download(proxy: CuttableProxy, tmp_path: Path) -> None:
    async with AsyncClient(proxy.address) as client:
        job_id = (await client.schedule(TASK)).job_id
        with pytest.raises(DeadlineExceeded, match=job_id):
            await client.wait(job_id, timeout=1.0)

        events: list[JobEvent] = []
        cut_after = 0
        async for event in client.watch(job_id, timeout=120):
            events.append(event)
            if not cut_after and event.tool_started.tool == "exec":
                proxy.cut()
                cut_after = event.sequence
                await asyncio.to_thread(open_gate, job_id)

        assert cut_after, "the job never ran its exec step"
        assert proxy.connections >= 2, "the watch never reconnected"
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        assert events[-1].sequence > cut_after

        job = await client.wait(job_id, timeout=30)
        assert job.status == "complete"
        zip_path = await client.download(job_id, tmp_path / "out.zip")
        with zipfile.ZipFile(zip_path) as archive:
            assert sorted(archive.namelist()) == ["hello.py", "notes.txt"]


@pytest.mark.asyncio
async def test_cancel_and_errors() -> None:
    async with AsyncClient(SERVER) as client:
        job_id = (await client.schedule(TASK)).job_id
        await asyncio.to_thread(await_gate, job_id)
        assert (await client.cancel(job_id)).status == "cancelled"
        with pytest.raises(FailedPrecondition, match="has already ended"):
            await client.cancel(job_id)
        with pytest.raises(NotFound) as unknown:
            await client.get(UNKNOWN_JOB)
        assert unknown.value.message == f"no job with id '{UNKNOWN_JOB}'"
        assert (await client.usage()).key
    async with AsyncClient(SERVER, api_key="not-" + API_KEY) as stranger:
        with pytest.raises(Unauthenticated):
            await stranger.get(UNKNOWN_JOB)
