"""The service's settings (``facecraft serve`` options) and the bind check."""

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from facecraft.service.errors import BindError

GIB = 1024**3
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """data_dir: jobs.sqlite3, uploads/ and jobs/ live here. token: None means no auth (loopback only).

    config_dir: facecraft's config dir for the signing identity and the provenance record store
    (None: the user's, as the CLI uses, so ``facecraft verify`` on the same machine finds the records).
    shutdown_timeout_s: how long a stop waits for running jobs to stop after they are told to.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    token: str | None = None
    max_upload_bytes: int = GIB
    max_queued: int = 16
    retention_hours: float = 24.0
    config_dir: Path | None = None
    shutdown_timeout_s: float = 10.0
    sweep_every_s: float = 600.0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.max_upload_bytes < 1:
            raise ValueError(f"max_upload_bytes must be positive, got {self.max_upload_bytes}")
        if self.max_queued < 1:
            raise ValueError(f"max_queued must be at least 1, got {self.max_queued}")
        if self.token is not None and not self.token.strip():
            raise ValueError("the token must not be blank; give a long random string or no token")

    @property
    def db_path(self) -> Path:
        return self.data_dir / "jobs.sqlite3"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/facecraft/service, else ~/.local/share/facecraft/service."""
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "facecraft" / "service"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the usual names of localhost."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Raise ``BindError`` when ``host`` is not a loopback address and no token is set."""
    if not is_loopback(host) and not token:
        raise BindError(host)
