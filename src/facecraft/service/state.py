"""What the routes share: the settings, the store, the worker pool and the face picker."""

from dataclasses import dataclass

from starlette.requests import Request

from facecraft.service.face_picker import FacePicker
from facecraft.service.settings import ServiceSettings
from facecraft.service.store import JobStore
from facecraft.service.worker import WorkerPool


@dataclass(frozen=True, slots=True)
class ServiceState:
    settings: ServiceSettings
    store: JobStore
    pool: WorkerPool
    picker: FacePicker


def get_state(request: Request) -> ServiceState:
    """The running app's state (set by the lifespan; a request cannot arrive before it)."""
    state: ServiceState = request.app.state.service
    return state
