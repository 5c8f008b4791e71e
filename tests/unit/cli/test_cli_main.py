"""The command line: JSON shapes, overlays, error messages and exit codes."""

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from facecraft.cli.main import app, forehead_mode
from facecraft.media.image import read_image, write_image
from facecraft.media.writer import FrameWriter

runner = CliRunner()


def _tiny_video(path: Path) -> Path:
    with FrameWriter(path, fps=10) as writer:
        for i in range(10):
            writer.write(np.full((48, 64, 3), 20 * i, dtype=np.uint8), i / 10)
    return path


def test_the_forehead_flag_is_on_or_off_and_left_out_lets_the_source_decide() -> None:
    assert (forehead_mode(True), forehead_mode(False), forehead_mode(None)) == ("on", "off", "auto")
    assert "--no-forehead" in runner.invoke(app, ["swap", "--help"]).output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert "facecraft" in result.output


def test_probe_json_on_a_video(tmp_path: Path) -> None:
    video = _tiny_video(tmp_path / "tiny.mp4")
    result = runner.invoke(app, ["probe", str(video), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert (info["width"], info["height"], info["frame_count"]) == (64, 48, 10)
    assert info["kind"] == "video" and info["fps"] == 10.0 and info["audio_streams"] == []


def test_probe_missing_file_exits_2_with_a_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["probe", str(tmp_path / "nope.mp4")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_faces_on_a_blank_image_finds_nothing(tmp_path: Path) -> None:
    image = write_image(tmp_path / "blank.png", np.full((120, 160, 3), 128, dtype=np.uint8))
    result = runner.invoke(app, ["faces", str(image), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"frames": [{"index": 0, "time_s": 0.0, "faces": []}]}


def test_faces_on_a_directory_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["faces", str(tmp_path)])
    assert result.exit_code == 2
    assert "directory" in result.output


def test_faces_json_on_a_group_photo_has_exactly_the_documented_keys(media_dir: Path, tmp_path: Path) -> None:
    photo = media_dir / "images" / "groups" / "2008_007676.jpg"
    overlay = tmp_path / "overlay.png"
    reference = media_dir / "images" / "d30.jpg"
    arguments = ["faces", str(photo), "--json", "--reference", str(reference), "--overlay", str(overlay)]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    (frame,) = json.loads(result.stdout)["frames"]
    assert set(frame) == {"index", "time_s", "faces"}
    assert len(frame["faces"]) == 7
    for i, face in enumerate(frame["faces"]):
        assert set(face) == {"bbox_xyxy", "score", "track_id", "identity_distance"}
        assert face["track_id"] == i
        assert face["identity_distance"] > 0.6  # nobody in the photo is the reference person
    drawn, original = read_image(overlay), read_image(photo)
    assert drawn.shape == original.shape and not np.array_equal(drawn, original)


def test_faces_on_a_video_tracks_one_person_with_one_id(media_dir: Path, tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.mp4"
    video = media_dir / "videos" / "d18.mp4"
    result = runner.invoke(app, ["faces", str(video), "--json", "--overlay", str(overlay)])
    assert result.exit_code == 0, result.output
    frames = json.loads(result.stdout)["frames"]
    assert len(frames) == 216
    assert all(len(f["faces"]) == 1 and f["faces"][0]["track_id"] == 0 for f in frames)
    times = [f["time_s"] for f in frames]
    assert times == sorted(times) and abs(times[1] - 1 / 30) < 1e-3
    info = json.loads(runner.invoke(app, ["probe", str(overlay), "--json"]).stdout)
    assert info["frame_count"] == 216 and info["audio_streams"][0]["codec"] == "aac"


def test_faces_reference_distance_is_small_for_the_same_person(media_dir: Path, tmp_path: Path) -> None:
    # A frame of d18 is the reference: the same man in the video must come out well under 0.6.
    from facecraft.media.reader import FrameReader

    with FrameReader(media_dir / "videos" / "d18.mp4") as reader:
        first = next(iter(reader)).image_bgr
    reference = write_image(tmp_path / "ref.png", first)
    result = runner.invoke(
        app, ["faces", str(media_dir / "videos" / "d18.mp4"), "--json", "--reference", str(reference)]
    )
    assert result.exit_code == 0, result.output
    distances = [f["faces"][0]["identity_distance"] for f in json.loads(result.stdout)["frames"]]
    assert max(distances) < 0.45
