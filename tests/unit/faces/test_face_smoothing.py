"""One-Euro filter: identity on a constant signal, follows a ramp, scale invariant."""

import numpy as np

from facecraft.faces.smoothing import OneEuroFilter


def test_constant_signal_passes_unchanged() -> None:
    smoother = OneEuroFilter()
    points = np.full((5, 2), 42.0, dtype=np.float32)
    for i in range(10):
        out = smoother(points, i / 30, 100.0)
    np.testing.assert_allclose(out, points, atol=1e-4)


def test_follows_a_steady_ramp_closely() -> None:
    smoother = OneEuroFilter()
    for i in range(60):
        truth = np.array([[100.0 + 10 * i, 50.0]], dtype=np.float32)
        out = smoother(truth, i / 30, 200.0)
    assert abs(float(out[0, 0] - truth[0, 0])) < 10.0  # under one frame of motion behind


def test_same_relative_result_at_any_face_size() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.01, (30, 4, 2)).astype(np.float32)
    outputs = []
    for scale in (50.0, 500.0):
        smoother = OneEuroFilter()
        outputs.append(np.stack([smoother(noise[i] * scale, i / 30, scale) / scale for i in range(30)]))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5)


def test_time_going_backwards_restarts() -> None:
    smoother = OneEuroFilter()
    smoother(np.zeros((1, 2), dtype=np.float32), 1.0, 100.0)
    out = smoother(np.ones((1, 2), dtype=np.float32), 0.5, 100.0)
    np.testing.assert_allclose(out, 1.0)
