"""Nomad Shell's Python client: ``Client`` (blocking) and ``AsyncClient`` (asyncio).

Replies are the API's protobuf messages (``Job``, ``JobEvent``, ...), re-exported here for type hints.
"""

from importlib.metadata import PackageNotFoundError, version

from ._pb.jobs_pb2 import Checkpoint, Job, JobEvent, ListJobsResponse, ScheduleResponse, Seed
from .aio import AsyncClient
from .client import Client
from .errors import (DeadlineExceeded, FailedPrecondition, InvalidArgument, NomadShellError, NotFound,
                     PermissionDenied, ResourceExhausted, Unauthenticated, Unavailable)

try:
    __version__ = version("nomad-shell")
except PackageNotFoundError:  # imported from a source tree that was not installed
    __version__ = "unknown"

__all__ = [
    "AsyncClient", "Checkpoint", "Client", "DeadlineExceeded", "FailedPrecondition", "InvalidArgument", "Job",
    "JobEvent", "ListJobsResponse", "NomadShellError", "NotFound", "PermissionDenied", "ResourceExhausted",
    "ScheduleResponse", "Seed", "Unauthenticated", "Unavailable",
]
