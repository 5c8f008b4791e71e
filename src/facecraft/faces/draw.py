"""Drawing of analysis results on frames, for overlays and contact sheets."""

import cv2
import numpy as np

from facecraft.faces.face import LEFT_IRIS_CENTER, MESH_POINTS, RIGHT_IRIS_CENTER, Face
from facecraft.types import Frame

_PALETTE_BGR = ((60, 220, 60), (60, 160, 255), (255, 120, 60), (220, 60, 220), (60, 220, 220), (200, 200, 60))


def colour_for(track_id: int | None) -> tuple[int, int, int]:
    return _PALETTE_BGR[(track_id or 0) % len(_PALETTE_BGR)]


def draw_faces(frame_bgr: Frame, faces: list[Face], labels: list[str] | None = None) -> Frame:
    """A copy of the frame with each face's box, id label, mesh points and iris centres."""
    canvas = frame_bgr.copy()
    scale = max(1.0, max(canvas.shape[:2]) / 640.0)
    for i, face in enumerate(faces):
        colour = colour_for(face.track_id if face.track_id is not None else i)
        _draw_mesh(canvas, face, colour, scale)
        x0, y0, x1, y1 = (round(float(v)) for v in face.bbox_xyxy)
        thickness = max(1, round(2 * scale))
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, thickness, cv2.LINE_AA)
        label = labels[i] if labels is not None else _default_label(face, i)
        _draw_label(canvas, label, (x0, y0), colour, scale)
    return canvas


def _default_label(face: Face, position: int) -> str:
    name = f"id {face.track_id}" if face.track_id is not None else f"#{position}"
    return f"{name} {face.score:.2f}"


def _draw_mesh(canvas: Frame, face: Face, colour: tuple[int, int, int], scale: float) -> None:
    """Mesh points as single pixels on small faces (so the face stays visible), dots on large ones."""
    height, width = canvas.shape[:2]
    points = np.round(face.landmarks_478[:, :2]).astype(np.int32)
    inside = (points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)
    mesh = points[:MESH_POINTS][inside[:MESH_POINTS]]
    if face.size_px < 250 * scale:
        canvas[mesh[:, 1], mesh[:, 0]] = colour
    else:
        for x, y in mesh:
            cv2.circle(canvas, (int(x), int(y)), 1, colour, -1, cv2.LINE_AA)
    radius = max(1, round(face.size_px / 60))
    for index in (RIGHT_IRIS_CENTER, LEFT_IRIS_CENTER):
        x, y = points[index]
        cv2.circle(canvas, (int(x), int(y)), radius, (0, 0, 255), 1, cv2.LINE_AA)


def _draw_label(
    canvas: Frame, text: str, origin_xy: tuple[int, int], colour: tuple[int, int, int], scale: float
) -> None:
    font_scale = 0.5 * scale
    thickness = max(1, round(scale))
    (w, h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
    x, y = origin_xy
    y = max(y, h + baseline + 2)
    cv2.rectangle(canvas, (x, y - h - baseline - 2), (x + w + 4, y), colour, -1)
    cv2.putText(
        canvas,
        text,
        (x + 2, y - baseline),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (0, 0, 0),
        thickness,
        cv2.LINE_AA,
    )
