"""Where a new faceset is written: checked before any work, built aside, moved into place when complete.

Rules for the output folder:

- missing (its parent folders are made too), or an empty folder: used;
- an existing faceset (it holds ``faceset.json``): refused, unless ``force``, which replaces it once the
  new one is complete (a cancelled or failed run leaves the old one as it was);
- a file, or a non-empty folder that is not a faceset: always refused, ``force`` or not, so that a typo
  can never delete someone's files.

The new faceset is built in a hidden sibling folder ``.NAME.partial-XXXXXXXX`` and renamed into place.
"""

import secrets
import shutil
from pathlib import Path

from facecraft.faceset.index import FACES_DIR, INDEX_FILE, MASKS_DIR, FacesetError


def check_output_dir(output_dir: Path, force: bool) -> None:
    """Refuse an output folder that must not be written (rules in the module docstring)."""
    if output_dir.exists() and not output_dir.is_dir():
        raise FacesetError(f"the output '{output_dir}' is a file; name a new or empty folder for the faceset")
    if not output_dir.is_dir() or not any(output_dir.iterdir()):
        return
    if not (output_dir / INDEX_FILE).is_file():
        raise FacesetError(
            f"the output folder '{output_dir}' is not empty and is not a faceset; "
            "name a new or empty folder (facecraft never deletes files it did not make)"
        )
    if not force:
        raise FacesetError(
            f"'{output_dir}' already holds a faceset; add --force to replace it, or name a new folder"
        )


def make_partial_dir(output_dir: Path) -> Path:
    """A fresh hidden folder beside ``output_dir`` (parents made as needed) with the faceset's sub-folders."""
    partial = output_dir.parent / f".{output_dir.name}.partial-{secrets.token_hex(4)}"
    try:
        (partial / FACES_DIR).mkdir(parents=True)
        (partial / MASKS_DIR).mkdir()
    except OSError as error:
        raise FacesetError(
            f"cannot create the faceset folder '{output_dir}': {error.strerror or error}"
        ) from error
    return partial


def commit_partial_dir(partial: Path, output_dir: Path) -> None:
    """Put the complete faceset in ``partial`` where ``output_dir`` is, replacing an empty folder or a
    faceset (checked again here: something may have been written there meanwhile)."""
    if output_dir.is_dir():
        if any(output_dir.iterdir()) and not (output_dir / INDEX_FILE).is_file():
            raise FacesetError(
                f"'{output_dir}' was filled by something else while extracting; nothing replaced"
            )
        old = output_dir.parent / f".{output_dir.name}.old-{secrets.token_hex(4)}"
        output_dir.rename(old)
        partial.rename(output_dir)
        shutil.rmtree(old, ignore_errors=True)
        return
    partial.rename(output_dir)


def discard_partial_dir(partial: Path) -> None:
    shutil.rmtree(partial, ignore_errors=True)
