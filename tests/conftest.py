"""Shared fixtures: where the real media lives, and skipping cleanly when it is absent."""

from pathlib import Path

import pytest

MEDIA_DIR = Path(__file__).resolve().parents[2] / "shared" / "media"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """The real footage beside the project (../shared/media); skips the test when it is absent."""
    if not (MEDIA_DIR / "videos").is_dir():
        pytest.skip(f"real media not found at {MEDIA_DIR} (it sits beside the project in CI)")
    return MEDIA_DIR
