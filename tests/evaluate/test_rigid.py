"""The closed-form rotation/scale solver against the SVD reference it replaces on the hot path."""

import numpy as np
import pytest

from signlib.evaluate.rigid import (BLOCK, MIN_BATCH, closed_form_rotation_trace, rotation_scale,
                                    rotation_scale_svd)


def random_rotation(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 3, 3)`` random proper rotations."""
    q, r = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]
    return q * np.sign(np.linalg.det(q))[:, None, None]


def moments(a: np.ndarray, b: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``cov (..., 3, 3) = Σ w b0 a0ᵀ`` and ``var_a (...)`` of point sets ``a``, ``b`` ``(..., J, 3)``,
    ``w`` ``(..., J)`` weights summing to 1 (uniform when None)."""
    w = np.full(a.shape[:-1], 1.0 / a.shape[-2]) if w is None else w
    a0 = a - np.einsum("...j,...jk->...k", w, a)[..., None, :]
    b0 = b - np.einsum("...j,...jk->...k", w, b)[..., None, :]
    return np.einsum("...j,...jx,...jy->...xy", w, b0, a0), np.einsum("...j,...jk,...jk->...", w, a0, a0)


def fast(cov, var_a):
    """The closed-form path, whatever the batch size."""
    return rotation_scale(cov, var_a, min_batch=0)


def aligned_cost(a, b, rotation, scale) -> np.ndarray:
    """Mean distance ``(...)`` after mapping centred ``a`` onto centred ``b``."""
    a0, b0 = a - a.mean(-2, keepdims=True), b - b.mean(-2, keepdims=True)
    moved = scale[..., None, None] * a0 @ np.swapaxes(rotation, -1, -2)
    return np.linalg.norm(moved - b0, axis=-1).mean(-1)


def assert_proper(rotation: np.ndarray, atol: float = 1e-10) -> None:
    np.testing.assert_allclose(rotation @ np.swapaxes(rotation, -1, -2),
                               np.broadcast_to(np.eye(3), rotation.shape), atol=atol)
    np.testing.assert_allclose(np.linalg.det(rotation), 1.0, atol=atol)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("joints", [3, 10, 21, 42])
def test_random_point_sets_match_the_svd(seed, joints):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(2, 500, joints, 3)) * rng.uniform(0.01, 1.0, size=(2, 500, 1, 3))
    cov, var_a = moments(a, b)
    rotation, scale = fast(cov, var_a)
    ref_rotation, ref_scale = rotation_scale_svd(cov, var_a)
    np.testing.assert_allclose(rotation, ref_rotation, atol=1e-11)
    np.testing.assert_allclose(scale, ref_scale, rtol=1e-12)
    assert_proper(rotation)
    assert closed_form_rotation_trace(cov)[2].mean() > 0.9    # the closed form, not the fallback, answered


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_similarities_are_recovered(seed):
    rng = np.random.default_rng(10 + seed)
    a = rng.normal(size=(200, 15, 3))
    rot, scale = random_rotation(rng, 200), rng.uniform(0.2, 5.0, 200)
    b = scale[:, None, None] * a @ np.swapaxes(rot, -1, -2) + rng.normal(size=(200, 1, 3))
    cov, var_a = moments(a, b)
    got_rotation, got_scale = fast(cov, var_a)
    np.testing.assert_allclose(got_rotation, rot, atol=1e-12)
    np.testing.assert_allclose(got_scale, scale, rtol=1e-12)
    assert closed_form_rotation_trace(cov)[2].all()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_reflected_inputs_still_give_proper_rotations_with_the_svd_cost(seed, noise):
    rng = np.random.default_rng(20 + seed)
    a = rng.normal(size=(300, 21, 3)) * [1.0, 0.6, 0.3]
    normal = rng.normal(size=(300, 3))
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    mirror = np.eye(3) - 2 * normal[:, :, None] * normal[:, None, :]      # det -1
    b = a @ np.swapaxes(mirror @ random_rotation(rng, 300), -1, -2) + noise * rng.normal(size=a.shape)
    cov, var_a = moments(a, b)
    assert (np.linalg.det(cov) < 0).all()                                 # the best orthogonal map reflects
    rotation, scale = fast(cov, var_a)
    ref_rotation, ref_scale = rotation_scale_svd(cov, var_a)
    assert_proper(rotation)
    np.testing.assert_allclose(rotation, ref_rotation, atol=1e-11)
    np.testing.assert_allclose(scale, ref_scale, rtol=1e-12)
    np.testing.assert_allclose(aligned_cost(a, b, rotation, scale), aligned_cost(a, b, ref_rotation, ref_scale),
                               atol=1e-12)


def degenerate_batch(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Point-set pairs ``(J, 3)`` whose best rotation is partly or wholly undetermined."""
    line = np.outer(rng.normal(size=8), [0.3, -0.5, 0.8])
    flat = rng.normal(size=(8, 3)) * [1.0, 1.0, 0.0]
    # A spheroid's scatter is diag(8, 2, 2) / 6: mirrored, d2 = d3 with det < 0.
    spheroid = np.concatenate([np.diag([2.0, 1.0, 1.0]), -np.diag([2.0, 1.0, 1.0]), np.zeros((2, 3))])
    return {
        "all points equal": (np.ones((8, 3)), rng.normal(size=(8, 3))),
        "both all equal": (np.ones((8, 3)), np.full((8, 3), 2.0)),
        "target all equal": (rng.normal(size=(8, 3)), np.ones((8, 3))),
        "collinear source": (line, rng.normal(size=(8, 3))),
        "collinear both": (line, 2.0 * line[::-1] + 1.0),
        "two points": (np.repeat(rng.normal(size=(2, 3)), 4, 0), np.repeat(rng.normal(size=(2, 3)), 4, 0)),
        "planar": (flat, flat @ random_rotation(rng, 1)[0].T),
        "mirrored planar": (flat, flat * [1.0, -1.0, 1.0]),
        # Flipping either weak axis is equally good: the best rotation is not unique.
        "mirrored spheroid": (spheroid, spheroid * [-1.0, 1.0, 1.0]),
        "mirrored spheroid, turned": (spheroid + 0.5, (spheroid * [1.0, -1.0, 1.0]) @ random_rotation(rng, 1)[0].T),
    }


def test_degenerate_inputs_match_the_svd_inside_a_regular_batch():
    rng = np.random.default_rng(3)
    cases = degenerate_batch(rng)
    regular_a, regular_b = rng.normal(size=(2, MIN_BATCH, 8, 3))
    a = np.concatenate([np.stack([p[0] for p in cases.values()]), regular_a])
    b = np.concatenate([np.stack([p[1] for p in cases.values()]), regular_b])
    cov, var_a = moments(a, b)
    rotation, scale = rotation_scale(cov, var_a)                          # big enough for the closed form
    ref_rotation, ref_scale = rotation_scale_svd(cov, var_a)
    assert_proper(rotation)
    np.testing.assert_allclose(scale, ref_scale, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(aligned_cost(a, b, rotation, scale), aligned_cost(a, b, ref_rotation, ref_scale),
                               atol=1e-12)
    # Undetermined rotations come from the SVD itself, so even they are the same.
    np.testing.assert_allclose(rotation, ref_rotation, atol=1e-11)
    names = list(cases)
    zero = [names.index(k) for k in ("all points equal", "both all equal", "target all equal")]
    np.testing.assert_array_equal(rotation[zero], np.broadcast_to(np.eye(3), (3, 3, 3)))
    np.testing.assert_array_equal(scale[zero], 0.0)


def test_an_exactly_zero_covariance_gives_identity_and_scale_zero():
    cov = np.zeros((MIN_BATCH, 3, 3))
    rotation, scale = rotation_scale(cov, np.zeros(MIN_BATCH))
    np.testing.assert_array_equal(rotation, np.broadcast_to(np.eye(3), cov.shape))
    np.testing.assert_array_equal(scale, 0.0)
    np.testing.assert_array_equal(rotation, rotation_scale_svd(cov, np.zeros(MIN_BATCH))[0])


@pytest.mark.parametrize("magnitude", [1e-150, 1e-9, 1e-3, 1e3, 1e9, 1e150])
def test_float64_precision_holds_at_any_magnitude(magnitude):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 100, 12, 3))
    cov, var_a = moments(a, b)
    rotation, scale = fast(cov * magnitude, var_a)
    ref_rotation, ref_scale = rotation_scale_svd(cov, var_a)
    assert rotation.dtype == scale.dtype == np.float64
    np.testing.assert_allclose(rotation, ref_rotation, atol=1e-11)
    np.testing.assert_allclose(scale, ref_scale * magnitude, rtol=1e-12)


def test_underflowing_norms_and_small_batches_use_the_svd():
    rng = np.random.default_rng(5)
    cov = rng.normal(size=(MIN_BATCH, 3, 3))
    cov[:3] *= 1e-160                                                   # ‖cov‖² would underflow ...
    cov[3] *= 1e-170                                                    # ... or even be 0
    var_a = rng.uniform(0.5, 2.0, MIN_BATCH)
    ref_rotation, ref_scale = rotation_scale_svd(cov, var_a)
    rotation, scale = rotation_scale(cov, var_a)
    np.testing.assert_array_equal(rotation[:4], ref_rotation[:4])
    np.testing.assert_array_equal(scale[:4], ref_scale[:4])
    small = rotation_scale(cov[4:9], var_a[4:9])                         # below MIN_BATCH: the SVD as is
    np.testing.assert_array_equal(small[0], ref_rotation[4:9])
    np.testing.assert_array_equal(small[1], ref_scale[4:9])


def test_batches_keep_their_shape_across_blocks():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(2, 3, BLOCK // 2 + 7, 10, 3))                # more than one block
    cov, var_a = moments(a, b)
    rotation, scale = rotation_scale(cov, var_a)
    assert rotation.shape == cov.shape and scale.shape == var_a.shape
    ref_rotation, ref_scale = rotation_scale_svd(cov, var_a)
    np.testing.assert_allclose(rotation, ref_rotation, atol=1e-11)
    np.testing.assert_allclose(scale, ref_scale, rtol=1e-12)


def test_weighted_moments_with_few_shared_points_match_the_svd():
    """Masks as in the PA frame costs: 0-3 shared points among 10, and weights of 1/n."""
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(2, 400, 10, 3))
    shared = rng.random((400, 10)) < rng.choice([0.0, 0.1, 0.2, 0.3, 0.8], size=(400, 1))
    w = shared / np.maximum(shared.sum(-1, keepdims=True), 1)
    cov, var_a = moments(np.where(shared[..., None], a, 0.0), np.where(shared[..., None], b, 0.0), w)
    rotation, scale = rotation_scale(cov, var_a)
    ref_rotation, ref_scale = rotation_scale_svd(cov, var_a)
    np.testing.assert_allclose(scale, ref_scale, rtol=1e-12, atol=1e-15)
    assert_proper(rotation)
    # With two shared points or fewer the rotation is not unique; it is the SVD's all the same.
    np.testing.assert_allclose(rotation, ref_rotation, atol=1e-11)


def test_nan_is_an_error_as_with_the_svd():
    cov = np.random.default_rng(8).normal(size=(MIN_BATCH, 3, 3))
    cov[5, 1, 2] = np.nan
    with pytest.raises(np.linalg.LinAlgError):
        rotation_scale_svd(cov, np.ones(MIN_BATCH))
    with pytest.raises(np.linalg.LinAlgError):
        rotation_scale(cov, np.ones(MIN_BATCH))
