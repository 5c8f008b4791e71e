"""`facecraft swap` end to end on real footage: identity, marking, audio, refusals and exit codes."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from facecraft.cli.main import app
from facecraft.media.image import read_image
from facecraft.media.probe import probe
from facecraft.safety.gate import ContentGate
from facecraft.safety.nudenet import Finding
from facecraft.types import Frame

runner = CliRunner()


@pytest.fixture(autouse=True)
def _private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Signing identity and provenance records go to a temporary config folder, not the user's."""
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "config"))


def test_swap_a_video_window_is_the_source_person_and_marked(media_dir: Path, tmp_path: Path) -> None:
    output, report = tmp_path / "out.mp4", tmp_path / "report.json"
    arguments = [
        "swap", str(media_dir / "images" / "d30.jpg"), str(media_dir / "videos" / "d18.mp4"),
        "-o", str(output), "--start", "1", "--end", "3", "--report", str(report), "--label", "AI-generated",
    ]  # fmt: skip
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    info = probe(output)
    assert info.frame_count == 60 and info.has_audio and (info.width, info.height) == (480, 480)
    data = json.loads(report.read_text())
    assert data["faces_swapped"] == 60
    quality = data["quality"]
    # The untouched target is 0.94 from the source photo; the swap must read as the source person
    # and no longer as the target man.
    assert quality["id_to_source"] < 0.55
    assert quality["id_to_target"] > 0.6
    assert quality["mar_corr"] > 0.9
    verified = runner.invoke(app, ["verify", str(output), "--json"])
    assert verified.exit_code == 0, verified.output
    marks = json.loads(verified.stdout)
    assert marks["watermark"]["found"] and marks["c2pa"]["state"] == "valid"
    assert marks["record"]["record_id"] == marks["watermark"]["payload"]["record_id"]


def test_keeping_the_sources_glasses_and_fringe_is_a_closer_likeness(media_dir: Path, tmp_path: Path) -> None:
    """d8.jpg wears glasses under a fringe: filled by default, kept with --keep-occluders --forehead."""
    distances = {}
    for name, extra in (("cleaned", []), ("kept", ["--keep-occluders", "--forehead"])):
        output, report = tmp_path / f"{name}.mp4", tmp_path / f"{name}.json"
        arguments = [
            "swap", str(media_dir / "images" / "d8.jpg"), str(media_dir / "videos" / "d20.mp4"),
            "-o", str(output), "--start", "1", "--end", "3", "--report", str(report), *extra,
        ]  # fmt: skip
        result = runner.invoke(app, arguments)
        assert result.exit_code == 0, result.output
        data = json.loads(report.read_text())
        distances[name] = data["quality"]["id_to_source"]
        covered_note = any("covers" in note for note in data["notes"])
        assert covered_note == (name == "cleaned")  # the user is told what was filled, and only then
    assert distances["kept"] < 0.5 and distances["kept"] < distances["cleaned"] - 0.04


def test_swap_onto_a_group_photo_changes_only_the_largest_face(media_dir: Path, tmp_path: Path) -> None:
    target = media_dir / "images" / "groups" / "2008_002506.jpg"
    output = tmp_path / "out.jpg"
    arguments = [
        "swap",
        str(media_dir / "images" / "d30.jpg"),
        str(target),
        "-o",
        str(output),
        "--faces",
        "largest",
    ]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    before, after = read_image(target).astype(int), read_image(output).astype(int)
    changed = np.abs(after - before).max(axis=2) > 40
    assert changed.any()
    xs = np.nonzero(changed)[1]
    assert xs.max() - xs.min() < before.shape[1] / 2  # one face, not all three
    assert runner.invoke(app, ["verify", str(output)]).exit_code == 0


def test_unmarked_original_is_reported_as_not_ours(media_dir: Path) -> None:
    result = runner.invoke(app, ["verify", str(media_dir / "videos" / "d18.mp4")])
    assert result.exit_code == 1, result.output


def test_source_without_a_face_is_refused_with_a_message(media_dir: Path, tmp_path: Path) -> None:
    blank = tmp_path / "wall.png"
    from facecraft.media.image import write_image

    write_image(blank, np.full((300, 300, 3), 180, dtype=np.uint8))
    result = runner.invoke(
        app, ["swap", str(blank), str(media_dir / "videos" / "d18.mp4"), "-o", str(tmp_path / "o.mp4")]
    )
    assert result.exit_code == 2
    assert "no face found" in result.output and "wall.png" in result.output
    assert not (tmp_path / "o.mp4").exists()


class _AlwaysExposed:
    """A stand-in detector that reports an exposed class everywhere (no such image is ever used)."""

    min_score = 0.2

    def detect(self, frame_bgr: Frame) -> list[Finding]:
        return [Finding("BUTTOCKS_EXPOSED", 0.95, np.array([0, 0, 10, 10], dtype=np.float32))]


def test_content_gate_refusal_exits_3_and_writes_nothing(
    media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "facecraft.pipeline.swap_builder.build_content_gate", lambda: ContentGate(_AlwaysExposed())
    )
    output = tmp_path / "o.mp4"
    arguments = [
        "swap",
        str(media_dir / "images" / "d30.jpg"),
        str(media_dir / "videos" / "d18.mp4"),
        "-o",
        str(output),
    ]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 3, result.output
    assert "refused" in result.output
    assert list(tmp_path.glob("o*")) == []
