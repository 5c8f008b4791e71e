"""``serve``: run the app on uvicorn after the bind check."""

import uvicorn

from facecraft.service.app import create_app
from facecraft.service.settings import ServiceSettings, check_bind

GRACEFUL_SHUTDOWN_S = 5
"""Open event streams are closed this long after Ctrl-C, so a watching browser cannot hold up a stop."""


def serve(settings: ServiceSettings) -> None:
    """Serve until stopped (Ctrl-C); refuses a non-loopback host without a token (``BindError``)."""
    check_bind(settings.host, settings.token)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
