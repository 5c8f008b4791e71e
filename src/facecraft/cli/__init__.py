"""Command-line adapter (typer): parses, calls the library, maps errors to exit codes."""
