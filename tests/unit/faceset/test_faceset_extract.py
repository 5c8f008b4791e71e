"""facecraft extract on real media: crops, landmarks, masks, filters, errors and the command line."""

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from facecraft.cli.extract_cli import register
from facecraft.errors import MediaError, SelectionError
from facecraft.faceset.crop import stable_keypoints_5, template_points
from facecraft.faceset.extract import (
    CONTACT_SHEET_FILE,
    ExtractCancelledError,
    ExtractOptions,
    NoFacesExtractedError,
    extract_faceset,
)
from facecraft.faceset.filters import DuplicateFilter, DuplicateSettings, thumbnail
from facecraft.faceset.index import FacesetError, FacesetIndex, load_index
from facecraft.faceset.mask import face_type_mask
from facecraft.faceset.sheet import spread_indices
from facecraft.faceset.summary import ExtractSummary
from facecraft.media.image import read_image, write_image
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter
from facecraft.swap.triangles import LEFT_BROW, RIGHT_BROW
from facecraft.types import Frame

SIZE = 128


def _frames(video: Path, indices: tuple[int, ...]) -> list[Frame]:
    wanted, found = set(indices), {}
    with FrameReader(video) as reader:
        for frame in reader:
            if frame.index in wanted:
                found[frame.index] = frame.image_bgr
            if len(found) == len(wanted):
                break
    return [found[i] for i in indices]


@pytest.fixture(scope="module")
def d18_frames(media_dir: Path) -> list[Frame]:
    return _frames(media_dir / "videos" / "d18.mp4", tuple(range(0, 200, 10)))


@pytest.fixture(scope="module")
def mixed_set(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ExtractSummary]:
    """The first 2 s of d18 (every 4th frame) and the photo d30.jpg, in one faceset."""
    clip = tmp_path_factory.mktemp("clip") / "d18_2s.mp4"
    with (
        FrameReader(media_dir / "videos" / "d18.mp4", end_s=2.0) as reader,
        FrameWriter(clip, fps=30) as writer,
    ):
        for frame in reader:
            writer.write(frame.image_bgr, frame.time_s)
    out = tmp_path_factory.mktemp("sets") / "mixed"
    options = ExtractOptions((clip, media_dir / "images" / "d30.jpg"), out, size=SIZE, every=4)
    return out, extract_faceset(options)


def test_extracts_a_loadable_faceset_from_a_video_and_a_photo(mixed_set: tuple[Path, ExtractSummary]) -> None:
    out, summary = mixed_set
    index = load_index(out)
    assert (index.size, index.face_type, len(index.entries)) == (SIZE, "face", summary.faces)
    video_count, photo_count = summary.per_input
    assert video_count.frames_used == 15 and photo_count.frames_used == 1
    assert video_count.faces >= 2 and photo_count.faces == 1
    assert summary.candidates == summary.faces + summary.dropped_blurred + summary.dropped_duplicates + (
        summary.dropped_small + summary.dropped_cut
    )
    assert {e.input_index for e in index.entries} == {0, 1}
    assert [e.file for e in index.entries] == [f"faces/{i:06d}.png" for i in range(len(index.entries))]
    assert sorted(p.name for p in (out / "faces").iterdir()) == [Path(e.file).name for e in index.entries]
    assert index.summary["faces"] == summary.faces and "pose" in index.summary
    assert not list(out.parent.glob(".mixed.partial-*"))


def test_crops_landmarks_and_masks_line_up(mixed_set: tuple[Path, ExtractSummary]) -> None:
    out, _ = mixed_set
    index = load_index(out)
    template = template_points(SIZE, "face")
    for entry in index.entries:
        crop = read_image(out / entry.file)
        mask = np.asarray(Image.open(out / entry.mask_file))
        assert crop.shape == (SIZE, SIZE, 3) and mask.shape == (SIZE, SIZE) and mask.dtype == np.uint8
        xy = entry.landmarks_crop[:468, :2]
        assert xy.min() >= 0 and xy.max() < SIZE, "a frontal face's mesh lies inside its crop"
        assert np.abs(stable_keypoints_5(entry.landmarks_crop) - template).max() < 4.0
        nose_x, nose_y = (int(v) for v in np.round(entry.landmarks_crop[4, :2]))
        assert mask[nose_y, nose_x] == 255 and mask[0, 0] == 0
        assert 0.25 < float((mask > 127).mean()) < 0.75
        assert abs(entry.pose_deg[0]) < 20 and entry.sharpness > 50


def test_contact_sheet_and_summary_are_written(mixed_set: tuple[Path, ExtractSummary]) -> None:
    out, summary = mixed_set
    sheet = read_image(out / CONTACT_SHEET_FILE)
    assert sheet.shape[0] > 128 and sheet.shape[1] > 128
    data = json.loads((out / "faceset.json").read_text())
    assert data["summary"]["per_input"][1]["faces"] == 1
    assert summary.pose.yaw_min <= summary.pose.yaw_max and summary.seconds > 0


def test_face_type_masks_cover_the_forehead_and_grow_to_the_head(
    mixed_set: tuple[Path, ExtractSummary],
) -> None:
    out, _ = mixed_set
    landmarks = load_index(out).entries[0].landmarks_crop
    face, whole, head = (face_type_mask(landmarks, SIZE, t) for t in ("face", "whole-face", "head"))
    np.testing.assert_array_equal(face, whole)  # the same oval; a face crop is only tighter
    assert float(whole.sum()) < float(head.sum())
    brows_y = float(landmarks[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    rows = np.flatnonzero(face.max(axis=1) > 0.5)
    assert rows[0] < brows_y - 0.05 * SIZE  # well above the brows: the forehead is in


def test_repeated_frames_are_dropped_as_near_duplicates(d18_frames: list[Frame], tmp_path: Path) -> None:
    clip = tmp_path / "still.mp4"
    with FrameWriter(clip, fps=25) as writer:
        for i in range(20):
            writer.write(d18_frames[0], i / 25)
    summary = extract_faceset(ExtractOptions((clip,), tmp_path / "set", size=SIZE))
    assert (summary.faces, summary.dropped_duplicates) == (1, 19)
    everything = extract_faceset(ExtractOptions((clip,), tmp_path / "all", size=SIZE, duplicate_distance=0.0))
    assert everything.faces == 20


def test_blurred_faces_are_dropped(d18_frames: list[Frame], tmp_path: Path) -> None:
    """Two blurred copies first (their files are on disk by the end, past the in-memory window), then 18
    sharp frames: the blurred ones are dropped against the set's median and their files deleted."""
    paths = []
    for i, frame in enumerate(d18_frames[:2]):
        blurred = np.asarray(cv2.GaussianBlur(frame, (0, 0), 4.0), dtype=np.uint8)
        paths.append(write_image(tmp_path / f"blurred{i}.png", blurred))
    for i, frame in enumerate(d18_frames[2:]):
        paths.append(write_image(tmp_path / f"sharp{i}.png", frame))
    out = tmp_path / "set"
    summary = extract_faceset(ExtractOptions(tuple(paths), out, size=SIZE, duplicate_distance=0.0))
    assert (summary.faces, summary.dropped_blurred) == (18, 2)
    assert [c.faces for c in summary.per_input] == [0, 0] + [1] * 18
    assert len(list((out / "faces").iterdir())) == len(list((out / "masks").iterdir())) == 18


def test_small_and_cut_faces_are_dropped(d18_frames: list[Frame], tmp_path: Path) -> None:
    frame = d18_frames[0]  # 480 x 480, the face about 270 px wide in the middle
    cut = write_image(tmp_path / "cut.png", np.ascontiguousarray(frame[:, 220:]))
    tiny = cv2.resize(frame, None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    small = write_image(tmp_path / "small.png", np.asarray(tiny, dtype=np.uint8))
    whole = write_image(tmp_path / "whole.png", frame)
    summary = extract_faceset(ExtractOptions((cut, small, whole), tmp_path / "set", size=SIZE))
    assert (summary.faces, summary.dropped_cut, summary.dropped_small) == (1, 1, 1)
    with pytest.raises(NoFacesExtractedError, match="1 cut by the frame edge"):
        extract_faceset(ExtractOptions((cut,), tmp_path / "set2", size=SIZE))


def test_a_photo_without_a_face_is_a_clear_error(tmp_path: Path) -> None:
    blank = write_image(tmp_path / "blank.png", np.full((240, 320, 3), 128, dtype=np.uint8))
    out = tmp_path / "set"
    with pytest.raises(NoFacesExtractedError, match=r"no face found in 'blank\.png'"):
        extract_faceset(ExtractOptions((blank,), out, size=SIZE))
    assert not out.exists() and list(tmp_path.iterdir()) == [blank]


def test_unreadable_and_missing_inputs_fail_before_any_work(tmp_path: Path, media_dir: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    photo = media_dir / "images" / "d30.jpg"
    with pytest.raises(MediaError, match=r"broken\.mp4"):
        extract_faceset(ExtractOptions((photo, broken), tmp_path / "set"))
    with pytest.raises(MediaError, match="not found"):
        extract_faceset(ExtractOptions((tmp_path / "nope.mp4",), tmp_path / "set"))
    assert not (tmp_path / "set").exists()


def test_output_folder_rules(tmp_path: Path, media_dir: Path) -> None:
    photo = (media_dir / "images" / "d30.jpg",)
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"x")
    for force in (False, True):
        with pytest.raises(FacesetError, match="not empty and is not a faceset"):
            extract_faceset(ExtractOptions(photo, foreign, size=64, force=force))
    assert [p.name for p in foreign.iterdir()] == ["holiday.jpg"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(FacesetError, match="is a file"):
        extract_faceset(ExtractOptions(photo, tmp_path / "file", size=64))
    out = tmp_path / "set"
    out.mkdir()  # an empty folder is fine
    extract_faceset(ExtractOptions(photo, out, size=64))
    with pytest.raises(FacesetError, match="--force"):
        extract_faceset(ExtractOptions(photo, out, size=96))
    extract_faceset(ExtractOptions(photo, out, size=96, force=True))
    assert load_index(out).size == 96
    nested = tmp_path / "new" / "deeper" / "set"  # missing parents are made
    extract_faceset(ExtractOptions(photo, nested, size=64))
    assert len(load_index(nested).entries) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "new", "photos", "set"]


def test_bad_options_are_refused(tmp_path: Path, media_dir: Path) -> None:
    photo = (media_dir / "images" / "d30.jpg",)
    with pytest.raises(SelectionError, match="one person"):
        extract_faceset(ExtractOptions(photo, tmp_path / "set", faces="all"))
    with pytest.raises(FacesetError, match="no input"):
        ExtractOptions((), tmp_path / "set")
    with pytest.raises(FacesetError, match="--every"):
        ExtractOptions(photo, tmp_path / "set", every=0)
    with pytest.raises(FacesetError, match="unknown face type 'torso'"):
        ExtractOptions(photo, tmp_path / "set", face_type="torso")  # type: ignore[arg-type]


def test_reference_keeps_only_that_person(d18_frames: list[Frame], tmp_path: Path, media_dir: Path) -> None:
    him = write_image(tmp_path / "him.png", d18_frames[1])
    reference = write_image(tmp_path / "ref.png", d18_frames[5])
    inputs = (him, media_dir / "images" / "d30.jpg")
    summary = extract_faceset(
        ExtractOptions(inputs, tmp_path / "set", size=SIZE, faces=f"reference:{reference}")
    )
    assert [c.faces for c in summary.per_input] == [1, 0]
    with pytest.raises(NoFacesExtractedError, match="matched the reference"):
        extract_faceset(
            ExtractOptions(inputs[1:], tmp_path / "set2", size=SIZE, faces=f"reference:{reference}")
        )


def test_cancel_leaves_nothing(d18_frames: list[Frame], tmp_path: Path) -> None:
    photo = write_image(tmp_path / "him.png", d18_frames[0])
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ExtractCancelledError):
        extract_faceset(ExtractOptions((photo,), tmp_path / "set", size=SIZE), cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["him.png"]


def test_duplicate_filter_and_sheet_spread() -> None:
    rng = np.random.default_rng(0)
    face = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    other = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    dups = DuplicateFilter(DuplicateSettings(thumb_distance=0.05, pose_deg=3.0))
    assert dups.match(thumbnail(face), (0.0, 0.0, 0.0)) is None
    slot = dups.add(thumbnail(face), (0.0, 0.0, 0.0))
    assert dups.match(thumbnail(face), (1.0, -1.0, 0.5)) == slot
    assert dups.match(thumbnail(face), (10.0, 0.0, 0.0)) is None, "same look, other pose: kept"
    assert dups.match(thumbnail(other), (0.0, 0.0, 0.0)) is None
    assert spread_indices(5, 64) == [0, 1, 2, 3, 4]
    spread = spread_indices(1000, 64)
    assert len(spread) == 64 and spread[0] == 0 and spread[-1] == 999


def _cli_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """facecraft (test)"""

    register(app)
    return app


def test_cli_extract_writes_a_faceset_and_maps_errors(tmp_path: Path, media_dir: Path) -> None:
    runner = CliRunner()
    app = _cli_app()
    photo = str(media_dir / "images" / "d30.jpg")
    out = tmp_path / "set"
    result = runner.invoke(app, ["extract", photo, "-o", str(out), "--size", "64", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "faces kept" in result.output
    index: FacesetIndex = load_index(out)
    assert (index.size, len(index.entries)) == (64, 1)
    again = runner.invoke(app, ["extract", photo, "-o", str(out), "--quiet"])
    assert again.exit_code == 2 and "--force" in again.output
    bad = runner.invoke(app, ["extract", photo, "-o", str(tmp_path / "x"), "--face-type", "torso"])
    assert bad.exit_code == 2
