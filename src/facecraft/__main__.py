"""`python -m facecraft`: the same as the `facecraft` command."""

from facecraft.cli.main import run

run()
