"""Tiny real facesets (aligned crops of a few frames of d3.mp4 and d10.mp4), built once per session."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.blend.masks import hull_mask
from facecraft.faces.alignment import transform_points, warp_to_crop
from facecraft.faceset.crop import FaceType, crop_matrix
from facecraft.faceset.index import FACES_DIR, MASKS_DIR, FacesetEntry, FacesetIndex, save_index
from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer

FACESET_FACES = 18
FACESET_SIZE = 64


def build_faceset(
    video: Path, directory: Path, count: int, every: int, size: int, face_type: FaceType = "whole-face"
) -> Path:
    """Write a faceset of ``count`` faces (one every ``every`` frames) of ``video`` into ``directory``."""
    analyzer = build_analyzer()
    (directory / FACES_DIR).mkdir(parents=True, exist_ok=True)
    (directory / MASKS_DIR).mkdir(parents=True, exist_ok=True)
    entries: list[FacesetEntry] = []
    with FrameReader(video) as reader:
        for frame in reader:
            if frame.index % every or len(entries) >= count:
                continue
            faces = analyzer.analyze(frame.image_bgr)
            if not faces:
                continue
            face = max(faces, key=lambda f: f.area_px)
            matrix = crop_matrix(face.landmarks_478, size, face_type)
            crop = warp_to_crop(frame.image_bgr, matrix, (size, size))
            scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2].astype(np.float64)))))
            xy = transform_points(face.landmarks_478, matrix)
            landmarks = np.concatenate([xy, face.landmarks_478[:, 2:3] * scale], axis=1).astype(np.float32)
            mask = (hull_mask(landmarks, (size, size), include_forehead=True) * 255.0 + 0.5).astype(np.uint8)
            name = f"{len(entries):06d}.png"
            cv2.imwrite(str(directory / FACES_DIR / name), crop)
            cv2.imwrite(str(directory / MASKS_DIR / name), mask)
            gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
            entries.append(
                FacesetEntry(
                    file=f"{FACES_DIR}/{name}",
                    mask_file=f"{MASKS_DIR}/{name}",
                    input_index=0,
                    frame_index=frame.index,
                    time_s=frame.time_s,
                    landmarks_crop=landmarks,
                    matrix_frame_to_crop=matrix,
                    pose_deg=(0.0, 0.0, 0.0),
                    sharpness=float(cv2.Laplacian(gray, cv2.CV_64F).var()),
                )
            )
    index = FacesetIndex(size=size, face_type=face_type, inputs=(str(video),), entries=tuple(entries))
    save_index(directory, index)
    return directory


@pytest.fixture(scope="session")
def tiny_facesets(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(source, target): faces of d3.mp4 and d10.mp4 at 64 px, whole-face crops."""
    root = tmp_path_factory.mktemp("facesets")
    videos = media_dir / "videos"
    source = build_faceset(videos / "d3.mp4", root / "d3", FACESET_FACES, 9, FACESET_SIZE)
    target = build_faceset(videos / "d10.mp4", root / "d10", FACESET_FACES, 11, FACESET_SIZE)
    return source, target
