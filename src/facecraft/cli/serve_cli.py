"""``facecraft serve``: the web app and REST API (``facecraft.service``) on uvicorn.

``main.py`` adds the command with ``serve_cli.register(app)``; the service's modules load only when
the command runs.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from facecraft.cli.handle import run_or_exit


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""
    app.command("serve")(serve)


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on. Any address but loopback needs --token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where jobs, uploads and results are kept (default: ~/.local/share/facecraft/service).",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Jobs that run at the same time.")] = 1,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="FACECRAFT_TOKEN",
            help="Every API call must send 'Authorization: Bearer TOKEN' (env FACECRAFT_TOKEN).",
        ),
    ] = None,
) -> None:
    """Serve the web app and REST API (every output is marked; jobs survive a restart)."""
    from facecraft.service.serve import serve as run_server
    from facecraft.service.settings import ServiceSettings, default_data_dir

    err = Console(stderr=True)

    def go() -> None:
        settings = ServiceSettings(
            data_dir=data_dir if data_dir is not None else default_data_dir(),
            host=host,
            port=port,
            workers=workers,
            token=token if token and token.strip() else None,
        )
        run_server(settings)

    run_or_exit(go, err)
