"""What training shows: the preview grid and the loss history (CSV and a plot drawn with OpenCV)."""

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from facecraft.types import Frame

PREVIEW_COLUMNS = ("A", "A rec", "A->B", "B", "B rec", "B->A")
"""Column order of a preview grid: a source face, its reconstruction, it drawn as the target person;
then a target-footage face, its reconstruction, and the swap (the target's expression, the source's face)."""

HistoryRow = dict[str, float]

_PLOT_WH = (720, 400)
_MARGIN = 48
_COLORS_BGR = ((60, 60, 220), (220, 120, 40), (40, 170, 40), (160, 60, 160), (0, 160, 200), (120, 120, 120))


def preview_grid(rows: Sequence[Sequence[Frame]], labels: Sequence[str] = PREVIEW_COLUMNS) -> Frame:
    """Tiles (BGR, all the same size) in rows, under a header row of column labels."""
    tile = rows[0][0].shape[0]
    header = np.full((22, tile * len(labels), 3), 32, dtype=np.uint8)
    for i, label in enumerate(labels):
        cv2.putText(
            header, label, (i * tile + 4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (230, 230, 230), 1, cv2.LINE_AA
        )
    body = [np.concatenate(list(row), axis=1) for row in rows]
    return np.asarray(np.concatenate([header, *body], axis=0), dtype=np.uint8)


def write_history_csv(path: Path, rows: Sequence[HistoryRow]) -> None:
    """All rows, atomically (temporary file then rename)."""
    if not rows:
        return
    fields = list(rows[0].keys())
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    tmp.replace(path)


def _to_px(values: np.ndarray, first: float, last: float, start: int, length: int) -> np.ndarray:
    """Pixels from ``start`` (at ``first``) to ``start + length`` (at ``last``); either order."""
    span = last - first
    if abs(span) < 1e-12:
        span = 1.0
    return np.asarray(start + (values - first) / span * length)


def draw_history_plot(rows: Sequence[HistoryRow], series: Sequence[str]) -> Frame:
    """Loss curves against step (log-scaled losses), one colour per series, with a legend."""
    width, height = _PLOT_WH
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    plot_w, plot_h = width - 2 * _MARGIN, height - 2 * _MARGIN
    cv2.rectangle(canvas, (_MARGIN, _MARGIN), (_MARGIN + plot_w, _MARGIN + plot_h), (0, 0, 0), 1)
    steps = np.asarray([row["step"] for row in rows], dtype=np.float64)
    present = [name for name in series if rows and all(name in row and row[name] > 0 for row in rows)]
    if len(steps) < 2 or not present:
        return canvas
    logs = {name: np.log10(np.asarray([row[name] for row in rows], dtype=np.float64)) for name in present}
    low = math.floor(min(float(v.min()) for v in logs.values()) * 4) / 4
    high = math.ceil(max(float(v.max()) for v in logs.values()) * 4) / 4
    xs = _to_px(steps, float(steps[0]), float(steps[-1]), _MARGIN, plot_w)
    for i, name in enumerate(present):
        ys = _to_px(logs[name], high, low, _MARGIN, plot_h)
        points = np.stack([xs, ys], axis=1).round().astype(np.int32)
        color = _COLORS_BGR[i % len(_COLORS_BGR)]
        cv2.polylines(canvas, [points], False, color, 1, cv2.LINE_AA)
        cv2.putText(
            canvas,
            name,
            (width - _MARGIN - 90, _MARGIN + 16 + 16 * i),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            color,
            1,
            cv2.LINE_AA,
        )
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(canvas, f"{10**high:.3g}", (2, _MARGIN + 4), font, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, f"{10**low:.3g}", (2, _MARGIN + plot_h), font, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, f"step {int(steps[0])}", (_MARGIN, height - 20), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    last = f"step {int(steps[-1])}"
    cv2.putText(canvas, last, (width - _MARGIN - 70, height - 20), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, "loss (log scale)", (_MARGIN, 30), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas


def write_image(path: Path, image_bgr: Frame) -> None:
    """PNG, atomically (temporary file then rename)."""
    tmp = path.with_name(path.stem + ".tmp.png")
    if cv2.imwrite(str(tmp), image_bgr):
        tmp.replace(path)
