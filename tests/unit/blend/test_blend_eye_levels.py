"""Each tracked eye's open level: blinks do not move it, held expressions become it."""

import numpy as np

from facecraft.blend import eye_levels
from facecraft.blend.eye_levels import EyeOpenLevels
from facecraft.blend.masks import LEFT_EYE, RIGHT_EYE, eye_aspect_ratio
from unit.blend.test_blend_fakes import schematic_landmarks


def _eyes(ear: float) -> np.ndarray:
    return schematic_landmarks(eye_ear=ear)


def test_a_blink_does_not_move_the_level_even_early_in_a_track() -> None:
    levels = EyeOpenLevels()
    open_ear = eye_aspect_ratio(_eyes(0.3), RIGHT_EYE)
    for _ in range(7):  # s18.mp4 blinks in its first half second
        levels.observe(1, _eyes(0.3))
    during_blink = [levels.observe(1, _eyes(0.12)) for _ in range(5)]
    for level in during_blink:
        assert level is not None
        assert abs(level[0] - open_ear) < 1e-6 and abs(level[1] - open_ear) < 1e-6


def test_an_expression_held_for_longer_than_the_window_becomes_the_level() -> None:
    levels = EyeOpenLevels()
    for _ in range(30):
        levels.observe(1, _eyes(0.3))
    for _ in range(eye_levels.WINDOW_FRAMES):
        last = levels.observe(1, _eyes(0.2))
    assert last is not None
    assert abs(last[1] - eye_aspect_ratio(_eyes(0.2), LEFT_EYE)) < 1e-6


def test_tracks_are_separate_images_have_no_level_and_reset_forgets() -> None:
    levels = EyeOpenLevels()
    assert levels.observe(None, _eyes(0.3)) is None
    for _ in range(10):
        levels.observe(1, _eyes(0.3))
    wide = levels.observe(2, _eyes(0.4))
    narrow = levels.observe(1, _eyes(0.3))
    assert wide is not None and narrow is not None
    assert wide[0] > narrow[0]
    levels.reset()
    after = levels.observe(1, _eyes(0.2))
    assert after is not None
    assert abs(after[0] - eye_aspect_ratio(_eyes(0.2), RIGHT_EYE)) < 1e-6
