"""Resampling in time: ends kept, linear in between, dtype kept, nothing to resample is an error."""

import numpy as np
import pytest

from signlib.errors import SignlibError
from signlib.pose.normalize import resample_time


def test_resample_time_keeps_ends_and_interpolates_linearly():
    x = np.arange(5, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)          # (5, 3): 0..4
    y = resample_time(x, 9)
    assert y.shape == (9, 3) and y.dtype == np.float32
    np.testing.assert_allclose(y[:, 0], np.linspace(0, 4, 9))
    np.testing.assert_allclose(resample_time(x, 5), x)
    np.testing.assert_allclose(resample_time(x, 3)[:, 1], [0, 2, 4])                 # slowed down / sped up


def test_resample_time_works_on_any_trailing_shape():
    x = np.arange(5, dtype=float)[:, None, None] * np.ones((1, 2, 3))                  # (5, 2, 3) joints
    y = resample_time(x, 9)
    assert y.shape == (9, 2, 3)
    np.testing.assert_allclose(y[:, 1, 2], np.linspace(0, 4, 9))
    np.testing.assert_allclose(resample_time(x[:1], 4), np.zeros((4, 2, 3)))           # one frame: held


@pytest.mark.parametrize("frames,length", [(0, 4), (5, 0)])
def test_resample_time_refuses_empty_input_or_output(frames, length):
    with pytest.raises(SignlibError, match=f"cannot resample {frames} frames to {length}"):
        resample_time(np.zeros((frames, 3)), length)
