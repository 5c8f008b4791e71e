"""Typed errors of the web service. Only :mod:`facecraft.service.app` maps them to HTTP statuses."""

from facecraft.errors import FacecraftError


class ServiceError(FacecraftError):
    """Base of the service's own errors."""


class BindError(ServiceError):
    """The server would listen on a non-loopback address without a token."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"refusing to listen on '{host}' without a token: anyone on the network could use it. "
            "Give --token (or set FACECRAFT_TOKEN), or listen on 127.0.0.1."
        )
        self.host = host


class UploadTooLargeError(ServiceError):
    def __init__(self, name: str, limit_bytes: int) -> None:
        super().__init__(
            f"'{name}' is larger than the limit of {limit_bytes:,} bytes. "
            "Trim or compress it, or ask the operator to raise the limit."
        )


class EmptyUploadError(ServiceError):
    def __init__(self, name: str) -> None:
        super().__init__(f"'{name}' is empty (0 bytes). Choose the file again; the copy probably failed.")


class WrongKindError(ServiceError):
    """An upload is a readable file of the wrong kind (a video where a photo is needed)."""


class UploadNotFoundError(ServiceError):
    def __init__(self, upload_id: str) -> None:
        super().__init__(f"no upload with id '{upload_id}' (it may have expired). Upload the file again.")


class JobNotFoundError(ServiceError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id '{job_id}'. List jobs with GET /api/jobs.")


class JobStateError(ServiceError):
    """The job is not in a state that allows the request (a result before it is done, a cancel after)."""


class QueueFullError(ServiceError):
    def __init__(self, max_queued: int, retry_after_s: int) -> None:
        super().__init__(
            f"the queue already holds {max_queued} waiting job(s). "
            f"Try again in about {retry_after_s} s, or cancel a queued job."
        )
        self.retry_after_s = retry_after_s


class InvalidOptionError(ServiceError):
    """A swap option is not one of the allowed values."""
