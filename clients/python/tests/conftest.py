"""Fixtures for the tests against a real server, which PythonSdkTest (e2e) starts with the scripted
model's python-sdk scenario: each job writes hello.py, then waits on a pipe (``gate`` in its
workspace) until the test opens it, then writes notes.txt and completes.

The server's address, its API key and its workspaces directory come from the environment; a
missing one is an error, never a skip.
"""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TASK = "Write hello.py, run it, then notes.txt"
UNKNOWN_JOB = "jaaaaaaaaaaaaaaaaaaaa"


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"${name} is not set: run these tests through PythonSdkTest, which starts a server")
    return value


SERVER = required_env("NOMAD_SHELL_SERVER")
API_KEY = required_env("NOMAD_SHELL_API_KEY")
WORKSPACES = Path(required_env("NOMAD_SHELL_TEST_WORKSPACES"))


def await_gate(job_id: str, timeout: float = 60.0) -> Path:
    """The job's pipe once its waiting step has made it (the job then runs in its sandbox)."""
    gate = WORKSPACES / job_id / "gate"
    end = time.monotonic() + timeout
    while not gate.exists():
        assert time.monotonic() < end, f"job {job_id} never made {gate}"
        time.sleep(0.05)
    return gate


def open_gate(job_id: str, timeout: float = 60.0) -> None:
    """Lets the job's waiting step go on: writes a line into its pipe once the step reads it."""
    gate = await_gate(job_id, timeout)
    end = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:  # ENXIO: nobody reads it yet
                raise
            assert time.monotonic() < end, f"job {job_id} never read {gate}"
            time.sleep(0.05)
            continue
        try:
            os.write(fd, b"go\n")
        finally:
            os.close(fd)
        return


class CuttableProxy:
    """A TCP relay to the server on loopback whose open connections the test can cut at once."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Closes every connection through the relay; new ones are relayed again."""
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            self._close(sock)

    def close(self) -> None:
        self._listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self._upstream)
            with self._lock:
                self._open |= {client, server}
                self.connections += 1
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # cut, or the other side went
        finally:
            self._close(sink)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


@pytest.fixture
def proxy() -> Iterator[CuttableProxy]:
    relay = CuttableProxy(SERVER)
    yield relay
    relay.close()
