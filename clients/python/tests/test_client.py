"""The blocking client against a real server (started by PythonSdkTest)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import API_KEY, SERVER, TASK, UNKNOWN_JOB, CuttableProxy, await_gate, open_gate
from nomad_shell import (Client, DeadlineExceeded, FailedPrecondition, InvalidArgument, JobEvent, NotFound,
                         Unauthenticated)


def assert_each_event_once(events: list[JobEvent], job_id: str) -> None:
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert {e.job_id for e in events} == {job_id}


def test_schedule_watch_through_a_disconnect_and_download(proxy: CuttableProxy, tmp_path: Path) -> None:
    with Client(proxy.address) as client:  # the key from $NOMAD_SHELL_API_KEY
        job_id = client.schedule(TASK).job_id

        # The job waits on its gate until the test opens it: it cannot stop within a second.
        with pytest.raises(DeadlineExceeded, match=job_id):
            client.wait(job_id, timeout=1.0)
        with pytest.raises(FailedPrecondition, match="once it has ended"):
            client.download(job_id, tmp_path)

        events: list[JobEvent] = []
        cut_after = 0
        for event in client.watch(job_id, timeout=120):
            events.append(event)
            if not cut_after and event.tool_started.tool == "exec":
                # The step that waits on the gate has begun: drop the connection, let the job go on meanwhile.
                proxy.cut()
                cut_after = event.sequence
                open_gate(job_id)

        assert cut_after, "the job never ran its exec step"
        assert proxy.connections >= 2, "the watch never reconnected"
        assert_each_event_once(events, job_id)
        assert events[-1].sequence > cut_after
        assert [e.status_changed.status for e in events if e.HasField("status_changed")][-1] == "complete"
        assert any(e.artifact_ready.bytes > 0 for e in events)

        job = client.wait(job_id, timeout=30)
        assert job.status == "complete"
        assert job.steps == 4

        zip_path = client.download(job_id, tmp_path)
        assert zip_path == tmp_path / f"{job_id}.zip"
        assert zip_path.stat().st_size == job.artifact_bytes
        with zipfile.ZipFile(zip_path) as archive:
            files = {name: archive.read(name).decode() for name in archive.namelist()}
        assert files == {"hello.py": "print('Hello from Python')\n", "notes.txt": "gate opened\n"}
        assert not list(tmp_path.glob("*.part"))

        steps = [c.step for c in client.checkpoints(job_id)]
        assert steps == sorted(steps) and steps[-1] == job.checkpoint_step


def test_cancel() -> None:
    with Client(SERVER) as client:
        job_id = client.schedule(TASK).job_id
        await_gate(job_id)  # running in its sandbox
        assert client.cancel(job_id).status == "cancelled"
        assert client.wait(job_id, timeout=30).status == "cancelled"
        with pytest.raises(FailedPrecondition) as again:
            client.cancel(job_id)
        assert again.value.message == f"job {job_id} has already ended (cancelled)"


def test_errors_carry_the_servers_words() -> None:
    with Client(SERVER) as client:
        with pytest.raises(NotFound) as unknown:
            client.get(UNKNOWN_JOB)
        assert str(unknown.value) == f"no job with id '{UNKNOWN_JOB}'"
        with pytest.raises(NotFound):
            list(client.watch(UNKNOWN_JOB, timeout=10))
        with pytest.raises(InvalidArgument) as empty:
            client.schedule("")
        assert empty.value.message

    for key in ("", "not-" + API_KEY):
        with Client(SERVER, api_key=key) as stranger, pytest.raises(Unauthenticated) as refused:
            stranger.get(UNKNOWN_JOB)
        assert refused.value.message


def test_usage_and_a_callback_the_server_does_not_allow() -> None:
    with Client(SERVER) as client:
        job_id = client.schedule(TASK).job_id
        await_gate(job_id)  # running in its sandbox
        usage = client.usage()
        assert usage.running_jobs >= 1
        assert usage.key and API_KEY not in usage.key
        assert usage.day_ends_at.seconds % 86400 == 0
        client.cancel(job_id)
        with pytest.raises(InvalidArgument) as refused:
            client.schedule(TASK, callback_url="http://127.0.0.1:9/hook")
        assert "--webhook-allow-hosts" in refused.value.message


def test_session_calls() -> None:
    with Client(SERVER) as client:
        job_id = client.schedule(TASK).job_id
        await_gate(job_id)
        pausing = client.pause(job_id)
        assert pausing.status == "running" and pausing.pause_requested
        open_gate(job_id)
        paused = client.wait(job_id, timeout=60)  # a paused job waits for someone: wait returns it
        assert paused.status == "paused" and paused.checkpoint_step == 2
        assert [c.step for c in client.checkpoints(job_id)][-1] == 2

        fork = client.fork(job_id, 1)  # from just after hello.py was written: it runs the gated step again
        assert fork.job_id != job_id and (fork.forked_from, fork.forked_from_step) == (job_id, 1)
        await_gate(fork.job_id)
        assert client.cancel(fork.job_id).status == "cancelled"

        assert client.send_message(job_id, "Go on").status in ("pending", "starting", "running")
        assert client.wait(job_id, timeout=60).status == "complete"
        said = [e.user_message.text for e in client.watch(job_id, timeout=30) if e.HasField("user_message")]
        assert said == ["Go on"]
        with pytest.raises(FailedPrecondition, match="not paused"):
            client.resume(job_id)

        rolled_back = client.rollback(job_id, 1)
        assert rolled_back.status == "paused" and rolled_back.checkpoint_step == 1
        with pytest.raises(NotFound):
            client.rollback(job_id, 99)
        assert client.cancel(job_id).status == "cancelled"
