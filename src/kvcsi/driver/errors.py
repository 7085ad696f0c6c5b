"""Domain errors of the driver and the one table that maps them to gRPC status codes.

Upstream counterpart: ``pkg/errors`` (the ``error_type`` metric labels) and the way
``nodeserver.go`` returns either ``status.Error(code, ...)`` or a plain Go error, which
grpc-go turns into ``codes.Unknown`` with the error text as the description. Kubelet then
shows that text verbatim in the pod's ``FailedMount`` event, so the texts here follow the Go
driver's wording.
"""

from __future__ import annotations

import grpc

# error_type label values (pkg/errors)
FAILED_TO_MOUNT = "FailedToMount"
FAILED_TO_ENSURE_MOUNT_POINT = "FailedToEnsureMountPoint"
SECRET_PROVIDER_CLASS_NOT_FOUND = "SecretProviderClassNotFound"
FAILED_TO_LOOKUP_PROVIDER_GRPC_CLIENT = "FailedToLookupProviderGRPCClient"
GRPC_PROVIDER_ERROR = "GRPCProviderError"
FILE_WRITE_ERROR = "FileWriteError"


class DriverError(Exception):
    """Base of every error the driver reports to kubelet; ``str()`` is the kubelet-visible text."""

    error_type: str = FAILED_TO_MOUNT

    def __init__(self, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_type is not None:
            self.error_type = error_type

    def __str__(self) -> str:
        return self.message


class InvalidRequest(DriverError):
    """A CSI request lacks a required field or has a forbidden value."""


class TargetPathError(DriverError):
    """The target path could not be created, checked, mounted or cleaned."""

    error_type = FAILED_TO_ENSURE_MOUNT_POINT


class SecretProviderClassNotFound(DriverError):
    """The SecretProviderClass named by the volume is not in the pod's namespace."""

    error_type = SECRET_PROVIDER_CLASS_NOT_FOUND


class SecretProviderClassInvalid(DriverError):
    """The SecretProviderClass has no provider or no parameters."""


class ProviderNotFound(DriverError):
    """No ``<dir>/<provider>.sock`` exists, or the provider name is invalid."""

    error_type = FAILED_TO_LOOKUP_PROVIDER_GRPC_CLIENT


class ProviderCallFailed(DriverError):
    """The Mount RPC failed, or its response is unusable (error code, no object versions)."""

    error_type = GRPC_PROVIDER_ERROR
    provider_warnings: tuple[str, ...] = ()  # sent by the provider with the failed call


class InvalidPayload(DriverError):
    """A file returned by the provider has a path or mode the driver refuses to write."""

    error_type = FILE_WRITE_ERROR


class FileWriteFailed(DriverError):
    """Writing the provider's files into the target failed."""

    error_type = FILE_WRITE_ERROR


class PodStatusFailed(DriverError):
    """Creating or updating the SecretProviderClassPodStatus failed."""


class MountFailed(DriverError):
    """Wraps a provider-stage cause in the upstream ``failed to mount ...`` text."""

    def __init__(self, namespace: str, pod: str, cause: DriverError) -> None:
        super().__init__(
            f"failed to mount secrets store objects for pod {namespace}/{pod}, err: {cause}",
            cause.error_type,
        )
        self.cause = cause


class RecordStatusFailed(DriverError):
    """Wraps a pod-status failure in the upstream ``failed to create ...`` text."""

    def __init__(self, namespace: str, pod: str, cause: Exception) -> None:
        super().__init__(
            "failed to create secret provider class pod status for pod "
            f"{namespace}/{pod}, err: {cause}"
        )
        self.cause = cause


# The one table: domain error -> gRPC status code. Errors the Go driver returns as plain Go
# errors reach kubelet as Unknown, so they stay Unknown here.
GRPC_CODES: dict[type[DriverError], grpc.StatusCode] = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    TargetPathError: grpc.StatusCode.INTERNAL,
    SecretProviderClassNotFound: grpc.StatusCode.UNKNOWN,
    SecretProviderClassInvalid: grpc.StatusCode.UNKNOWN,
    ProviderNotFound: grpc.StatusCode.UNKNOWN,
    ProviderCallFailed: grpc.StatusCode.UNKNOWN,
    InvalidPayload: grpc.StatusCode.UNKNOWN,
    FileWriteFailed: grpc.StatusCode.UNKNOWN,
    PodStatusFailed: grpc.StatusCode.UNKNOWN,
    MountFailed: grpc.StatusCode.UNKNOWN,
    RecordStatusFailed: grpc.StatusCode.UNKNOWN,
}


def grpc_code(error: DriverError) -> grpc.StatusCode:
    """The status code for ``error``, looked up along its class hierarchy."""
    for cls in type(error).__mro__:
        code = GRPC_CODES.get(cls)  # type: ignore[call-overload]
        if code is not None:
            return code
    return grpc.StatusCode.UNKNOWN


# Go spells status codes in CamelCase in ``rpc error: code = X desc = ...``.
GO_CODE_NAMES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}


def go_status_text(code: grpc.StatusCode, details: str | None) -> str:
    """The text grpc-go's ``status.Error(...).Error()`` gives for a status."""
    return f"rpc error: code = {GO_CODE_NAMES.get(code, 'Unknown')} desc = {details or ''}"
