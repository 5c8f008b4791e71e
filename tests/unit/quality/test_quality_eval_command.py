"""``facecraft eval`` logic (cli/eval_command.py): JSON with exactly the issue's keys, a table, a sheet."""

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from facecraft.cli.eval_command import EvalOptions, run_eval
from facecraft.media.image import read_image
from facecraft.quality.report import REPORT_KEYS

pytestmark = pytest.mark.media


def test_eval_of_a_photo_against_itself_prints_json_table_and_sheet(media_dir: Path, tmp_path: Path) -> None:
    photo = media_dir / "images" / "d8.jpg"
    sheet = tmp_path / "sheet.png"
    options = EvalOptions(
        media_dir / "images" / "d30.jpg", photo, photo, frames=4, sheet=sheet, show_progress=False
    )
    result = run_eval(options, Console(file=io.StringIO()))
    data = json.loads(result.json_text())
    assert tuple(data) == REPORT_KEYS
    assert data["frames"] == 1 and data["id_to_target"] == 0.0 and data["flicker_ratio"] is None
    assert data["id_to_source"] > 0.6  # d8 and d30 are different people
    rendered = io.StringIO()
    Console(file=rendered, width=160).print(result.summary_table())
    text = rendered.getvalue()
    assert "id_to_source" in text and "seam_ratio" in text and "<= 1.1" in text
    image = read_image(sheet)
    assert image.shape[1] == 3 * 256 + 4 * 8 and image.shape[0] > 256


def test_eval_options_refuse_zero_frames() -> None:
    with pytest.raises(ValueError, match="frames"):
        EvalOptions(Path("a.jpg"), Path("b.mp4"), Path("c.mp4"), frames=0)
