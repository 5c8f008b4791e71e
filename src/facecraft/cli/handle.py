"""How every command runs a library call: a typed error becomes a one-line message and its exit code."""

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from facecraft.errors import FacecraftError

T = TypeVar("T")


def run_or_exit(action: Callable[[], T], err: Console) -> T:
    """Run ``action``; a ``FacecraftError`` is printed on ``err`` and exits with its code, Ctrl-C with 130."""
    try:
        return action()
    except FacecraftError as error:
        err.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(error.exit_code) from error
    except KeyboardInterrupt:
        err.print("[yellow]cancelled[/]")
        raise typer.Exit(130) from None
