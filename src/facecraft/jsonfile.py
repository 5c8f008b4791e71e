"""facecraft's own JSON files (faceset index, model card): written atomically, read with a format check.

Readers get a typed error (the caller's class) whose message says what the file is and what to do.
"""

import json
from pathlib import Path

from facecraft.errors import FacecraftError


def write_json_atomic(path: Path, data: object, *, indent: int | None = None) -> Path:
    """Write ``data`` as JSON to a temporary file beside ``path``, then rename it into place."""
    tmp = path.with_name(path.name + ".tmp")
    separators = None if indent is not None else (",", ":")
    tmp.write_text(json.dumps(data, indent=indent, separators=separators) + "\n")
    tmp.replace(path)
    return path


def read_format_json(
    path: Path, expected_format: str, what: str, remedy: str, error: type[FacecraftError]
) -> dict[str, object]:
    """The JSON object in ``path`` whose ``format`` is ``expected_format``; else ``error`` saying ``remedy``.

    what: how the file is named in messages ("the model card"); remedy: what to do ("re-export the model").
    """
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as cause:
        raise error(f"{what} '{path}' cannot be read ({cause}); {remedy}") from cause
    if not isinstance(data, dict) or data.get("format") != expected_format:
        raise error(f"'{path}' is not {what} of format {expected_format}")
    return data
