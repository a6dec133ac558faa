"""Curation: gap filling, normalisation, length limits."""

import numpy as np
import pytest

from signlib.data.curate import curate, curate_all, fill_gaps, quality_table
from signlib.data.sequence import Sequence
from signlib.pose.normalize import normalize_xyz


def test_short_interior_gap_is_interpolated_linearly():
    x = np.tile(np.arange(10, dtype=np.float32)[:, None], (1, 49 * 3))
    valid = np.ones((10, 49), bool)
    valid[4:6, 20] = False
    x[4:6, 60:63] = 0
    out, v, filled = fill_gaps(x, valid, "xyz_mediapipe", max_gap=2)
    np.testing.assert_allclose(out[4:6, 60:63], [[4] * 3, [5] * 3])
    assert v.all() and filled == 2


def test_long_and_edge_gaps_stay_invalid_but_hold_the_nearest_value():
    x = np.tile(np.arange(10, dtype=np.float32)[:, None], (1, 49 * 3))
    valid = np.ones((10, 49), bool)
    valid[2:8, 20] = False
    valid[:2, 30] = False
    out, v, filled = fill_gaps(x, valid, "xyz_mediapipe", max_gap=3)
    assert filled == 0 and not v[2:8, 20].any() and not v[:2, 30].any()
    np.testing.assert_allclose(out[2:5, 60], [1, 1, 1])   # nearest observed frame is 1
    np.testing.assert_allclose(out[5:8, 60], [8, 8, 8])   # ... then 8
    np.testing.assert_allclose(out[:2, 90], [2, 2])


def test_rot6d_gap_fill_returns_proper_rotations():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 240)).astype(np.float32)
    valid = np.ones((8, 40), bool)
    valid[3:5, 30] = False
    out, _, _ = fill_gaps(x, valid, "rot6d", max_gap=5)
    r = out.reshape(8, 40, 2, 3)
    np.testing.assert_allclose(np.linalg.norm(r, axis=-1), 1, atol=1e-5)
    np.testing.assert_allclose((r[..., 0, :] * r[..., 1, :]).sum(-1), 0, atol=1e-5)


def test_normalize_xyz_gives_unit_shoulder_width_at_origin():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 49, 3)).astype(np.float32)
    x[:, 1] = (3, 2, 1)
    x[:, 2] = (1, 2, 1)  # width 2, midpoint (2, 2, 1)
    out = normalize_xyz(x.reshape(5, -1), "xyz_mediapipe").reshape(5, 49, 3)
    np.testing.assert_allclose(out[:, 1], [[0.5, 0, 0]] * 5, atol=1e-6)
    np.testing.assert_allclose(out[:, 2], [[-0.5, 0, 0]] * 5, atol=1e-6)


def test_curate_drops_overlong_clips_and_reports_why():
    seq = Sequence(features=np.tile(np.array([1, 0, 0, 0, 1, 0], np.float32), (30, 40)), layout="rot6d", fps=25,
                   id="long", language="DGS")
    kept, rows = curate_all([seq], max_gap=3, max_frames=20)
    assert kept == [] and "longer than 20" in rows[0]["dropped"]
    table = quality_table(rows)
    assert table[-1]["language"] == "all" and table[-1]["dropped"] == 1


@pytest.mark.parametrize("max_gap,expected_after", [(0, 2 / (10 * 40)), (2, 0.0)])
def test_curate_reports_missing_share_before_and_after(max_gap, expected_after):
    feats = np.tile(np.array([1, 0, 0, 0, 1, 0], np.float32), (10, 40))
    valid = np.ones((10, 40), bool)
    valid[4:6, 33] = False
    out, row = curate(Sequence(features=feats, layout="rot6d", fps=25, valid=valid, id="c"), max_gap, 100)
    assert row["missing_before"] == pytest.approx(2 / 400)
    assert row["missing_after"] == pytest.approx(expected_after)
