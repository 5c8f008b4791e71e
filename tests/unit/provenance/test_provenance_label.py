"""The visible label: placed where asked, inside the frame, legible from 320 px to 4K, text drawn white."""

from pathlib import Path

import numpy as np
import pytest

from facecraft.provenance.label import (
    LABEL_POSITIONS,
    LabelPosition,
    LabelStage,
    draw_label,
    render_label,
)

SIZES_WH = [(320, 180), (1280, 720), (3840, 2160), (180, 320)]


def grey(size_wh: tuple[int, int], level: int = 128) -> np.ndarray:
    width, height = size_wh
    return np.full((height, width, 3), level, dtype=np.uint8)


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 (exclusive) of the pixels that differ."""
    ys, xs = np.nonzero(np.any(before != after, axis=2))
    assert ys.size > 0, "nothing was drawn"
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


@pytest.mark.parametrize("size_wh", SIZES_WH)
def test_default_label_sits_in_the_bottom_right_corner_inside_the_frame(size_wh: tuple[int, int]) -> None:
    width, height = size_wh
    frame = grey(size_wh)
    out = draw_label(frame)
    x0, y0, x1, y1 = changed_box(frame, out)
    assert x0 > 0 and x1 < width and y0 > 0 and y1 < height  # a margin on every side
    assert x0 > width / 2 and y0 > height * 0.75  # the bottom-right corner
    assert (x0, y0, x1, y1) == render_label(size_wh).bbox_xyxy
    # legible: the text is at least 12 px tall on small frames and grows with the frame
    assert y1 - y0 >= 12 + 4
    region = out[y0:y1, x0:x1]
    assert region.max() >= 230  # white glyphs
    assert region.min() <= 128 * 0.45  # the dark box behind them
    np.testing.assert_array_equal(frame, grey(size_wh))  # the input is not changed


def test_label_scales_with_the_frame() -> None:
    small = render_label((320, 180)).bbox_xyxy
    large = render_label((3840, 2160)).bbox_xyxy
    small_h, large_h = small[3] - small[1], large[3] - large[1]
    assert large_h > 5 * small_h
    assert large_h < 0.12 * 2160


@pytest.mark.parametrize("position", LABEL_POSITIONS)
def test_each_position_puts_the_box_where_it_says(position: LabelPosition) -> None:
    width, height = 640, 360
    x0, y0, x1, y1 = render_label((width, height), position=position).bbox_xyxy
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
    assert (centre_y < height / 3) if position.startswith("top") else (centre_y > 2 * height / 3)
    if position.endswith("left"):
        assert centre_x < width / 3
    elif position.endswith("right"):
        assert centre_x > 2 * width / 3
    else:
        assert abs(centre_x - width / 2) <= 1


def test_long_text_shrinks_to_fit_a_narrow_frame() -> None:
    text = "This video was made with AI and is not real"
    x0, _y0, x1, y1 = render_label((200, 300), text=text, position="bottom").bbox_xyxy
    assert x0 >= 0 and x1 <= 200 and y1 <= 300


def test_stage_draws_every_frame_and_reuses_its_rendering() -> None:
    stage = LabelStage(text="AI-generated", position="top-left")
    first = stage.process(grey((320, 180)), 0, 0.0)
    second = stage.process(grey((320, 180), 40), 1, 0.04)
    assert changed_box(grey((320, 180)), first)[:2] < (160, 60)
    assert not np.array_equal(second, grey((320, 180), 40))
    assert stage.overlay((320, 180)) is stage.overlay((320, 180))


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="position"):
        LabelStage(position="middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text"):
        LabelStage(text="  ")
    with pytest.raises(ValueError, match="size_fraction"):
        LabelStage(size_fraction=0.9)
    with pytest.raises(ValueError, match="cannot draw"):
        LabelStage(text="Généré par IA")  # the built-in font is ASCII only


def test_a_font_file_draws_accented_text() -> None:
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font.is_file():
        pytest.skip(f"no system font at {font} to test font_path with")
    frame = grey((640, 360))
    out = draw_label(frame, text="Généré par IA", font_path=font)
    assert changed_box(frame, out)[0] > 320
