"""Errors as Python exceptions: one class per gRPC status a caller may want to tell apart.

Each carries the server's message (``str(error)`` and ``error.message``) and its gRPC code.
"""

from __future__ import annotations

import grpc


class NomadShellError(Exception):
    """A call that failed; ``message`` is the server's words, ``code`` its gRPC status."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidArgument(NomadShellError):
    """The request was refused as it is (an empty task, a resource past the server's caps...)."""


class NotFound(NomadShellError):
    """No such job for this API key (another key's jobs do not exist for it), step or upload."""


class FailedPrecondition(NomadShellError):
    """Not in the job's current state: cancelling an ended job, downloading before completion..."""


class Unauthenticated(NomadShellError):
    """No API key, or one the server does not know."""


class PermissionDenied(NomadShellError):
    """The key may not do this."""


class ResourceExhausted(NomadShellError):
    """Over a limit of the server's (queue, sizes, budgets)."""


class Unavailable(NomadShellError):
    """The server could not be reached, or went away (``watch`` reconnects on its own first)."""


class DeadlineExceeded(NomadShellError, TimeoutError):
    """A call, or ``wait``, ran past its timeout."""


_BY_CODE: dict[grpc.StatusCode, type[NomadShellError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}


def from_rpc_error(error: grpc.RpcError) -> NomadShellError:
    """The exception for a failed call (sync or asyncio: both errors have code() and details())."""
    code: grpc.StatusCode | None = error.code() if hasattr(error, "code") else None
    details: str | None = error.details() if hasattr(error, "details") else None
    if code is None:
        return NomadShellError(details or str(error))
    return _BY_CODE.get(code, NomadShellError)(details or code.name.lower().replace("_", " "), code)
