"""The CPU Gaussian rasteriser (signlib.render.splat): its projection against gsplat's pure-torch
reference, the compositing against a per-pixel loop and analytic cases, depth order, float64
transmittance and the early stop, gradients, bad inputs; and gsplat's CUDA rasteriser against it
when a GPU is present."""

import math

import pytest
import torch

from signlib.errors import SignlibError
from signlib.render.camera import front_camera
from signlib.render.gsplat_backend import render_gsplat
from signlib.render.splat import (ALPHA_MAX, ALPHA_MIN, T_MIN, covariances, project_gaussians, quat_to_matrix,
                                  rasterize_gaussians)

LO, HI = [-0.3, -0.3, -0.3], [0.3, 0.3, 0.3]


def camera(width=48, height=40):
    return front_camera(LO, HI, width, height)


def random_scene(n, seed, dtype=torch.float32, max_opacity=0.95):
    """``n`` Gaussians in the framed box: (means, quats, scales, opacities, colors)."""
    g = torch.Generator().manual_seed(seed)
    means = (torch.rand(n, 3, generator=g, dtype=torch.float64) - 0.5) * 0.6
    quats = torch.randn(n, 4, generator=g, dtype=torch.float64)
    scales = 0.005 + 0.04 * torch.rand(n, 3, generator=g, dtype=torch.float64)
    opacities = 0.05 + (max_opacity - 0.05) * torch.rand(n, generator=g, dtype=torch.float64)
    colors = torch.rand(n, 3, generator=g, dtype=torch.float64)
    return [t.to(dtype) for t in (means, quats, scales, opacities, colors)]


def gsplat_projection(means, covars, cam):
    from gsplat.cuda._torch_impl import _fully_fused_projection  # pure torch: safe without CUDA
    radii, means2d, depths, conics, _ = _fully_fused_projection(
        means, covars, cam.viewmat.to(means)[None], cam.K.to(means)[None], cam.width, cam.height,
        eps2d=0.3, near_plane=0.01)
    return radii[0], means2d[0], depths[0], conics[0]


def per_pixel_reference(means, quats, scales, opacities, colors, cam, background):
    """gsplat's compositing loop, pixel by pixel in float64: (image (H, W, 3), alpha (H, W))."""
    p = project_gaussians(means.double(), covariances(quats.double(), scales.double()), cam)
    visible = [i for i in range(len(means)) if (p.radii[i] > 0).all()]
    visible.sort(key=lambda i: float(p.depths[i]))
    image = torch.zeros(cam.height, cam.width, 3, dtype=torch.float64)
    alpha = torch.zeros(cam.height, cam.width, dtype=torch.float64)
    for y in range(cam.height):
        for x in range(cam.width):
            T, rgb = 1.0, torch.zeros(3, dtype=torch.float64)
            for i in visible:
                dx, dy = x + 0.5 - float(p.means2d[i, 0]), y + 0.5 - float(p.means2d[i, 1])
                a, b, c = p.conics[i].tolist()
                sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
                a_i = min(ALPHA_MAX, float(opacities[i]) * math.exp(-sigma))
                if sigma < 0 or a_i < ALPHA_MIN:
                    continue
                if T * (1 - a_i) <= T_MIN:
                    break
                rgb += colors[i].double() * a_i * T
                T *= 1 - a_i
            image[y, x] = rgb + T * torch.as_tensor(background, dtype=torch.float64)
            alpha[y, x] = 1 - T
    return image, alpha


# --- projection --------------------------------------------------------------------------------

def test_quaternions_and_covariances():
    q = torch.randn(20, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    R = quat_to_matrix(q)
    torch.testing.assert_close(R @ R.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(20, 3, 3))
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(20, dtype=torch.float64))
    torch.testing.assert_close(quat_to_matrix(3.5 * q), R)  # normalises
    s = torch.rand(20, 3, dtype=torch.float64) + 0.1
    torch.testing.assert_close(covariances(q, s), R @ torch.diag_embed(s * s) @ R.transpose(1, 2))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_projection_matches_gsplats_reference(seed, dtype):
    cam = camera(64, 48)
    means, quats, scales, _, _ = random_scene(200, seed, dtype)
    g = torch.Generator().manual_seed(100 + seed)
    eye_z = float(cam.viewmat[2, 3])  # the camera sits at z = eye_z, looking down -z
    means[:20, 0] = torch.linspace(-0.9, 0.9, 20, dtype=dtype)  # partly or wholly off the image
    scales[:20] *= 4
    means[20:30, 2] = eye_z + torch.rand(10, generator=g, dtype=torch.float64).to(dtype)  # behind the camera
    means[30:35, 2] = eye_z - 0.005  # in front of it but nearer than the near plane
    means[35:40, 0] = 1.5  # far outside the frustum: the Jacobian's clamp matters
    scales[35:40] = 0.3
    covars = covariances(quats, scales)
    radii, means2d, depths, conics = gsplat_projection(means, covars, cam)
    p = project_gaussians(means, covars, cam)
    assert torch.equal(p.radii, radii)
    visible = (radii > 0).all(-1)
    assert 100 < int(visible.sum()) < 200 and not visible[20:35].any() and visible[:20].any()
    torch.testing.assert_close(p.means2d[visible], means2d[visible])
    torch.testing.assert_close(p.depths[visible], depths[visible])
    torch.testing.assert_close(p.conics[visible], conics[visible])
    a, b, c = p.conics[visible].unbind(-1)
    inverse = torch.stack((c, -b, -b, a), -1).reshape(-1, 2, 2) / (a * c - b * b)[:, None, None]
    torch.testing.assert_close(p.cov2d[visible], inverse, rtol=1e-4, atol=1e-4)


# --- compositing -------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1])
def test_matches_a_per_pixel_loop(seed):
    scene = random_scene(25, seed, torch.float64, max_opacity=1.0)
    scene[3][:4] = 1.0  # a few opaque ones (α clamped at 0.99) so that pixels stop early
    cam, background = camera(20, 18), (0.2, 0.5, 0.9)
    image, alpha = per_pixel_reference(*scene, cam, background)
    out = rasterize_gaussians(*scene, cam, background)
    torch.testing.assert_close(out.image, image, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.alpha, alpha, rtol=0, atol=1e-12)
    out32 = rasterize_gaussians(*(t.float() for t in scene), cam, background)
    assert out32.image.dtype == torch.float32 and out32.alpha.dtype == torch.float32
    torch.testing.assert_close(out32.image, image.float(), rtol=0, atol=1e-5)


def test_chunks_give_the_same_image():
    scene, cam = random_scene(80, 3), camera()
    whole = rasterize_gaussians(*scene, cam)
    chunked = rasterize_gaussians(*scene, cam, max_pairs=300)
    torch.testing.assert_close(chunked.image, whole.image, rtol=0, atol=1e-6)
    assert chunked.pairs == whole.pairs > 0


def test_a_single_isotropic_gaussian():
    cam = camera(33, 33)  # odd size: the image centre is the centre of pixel (16, 16)
    o, c, bg = 0.7, torch.tensor([[0.9, 0.2, 0.1]]), torch.tensor([0.1, 0.3, 1.0])
    means, quats = torch.zeros(1, 3), torch.tensor([[0.3, -0.5, 0.2, 0.7]])
    scales = torch.full((1, 3), 0.01)
    out = rasterize_gaussians(means, quats, scales, torch.tensor([o]), c, cam, bg)
    torch.testing.assert_close(out.image[16, 16], o * c[0] + (1 - o) * bg)
    assert float(out.alpha[16, 16]) == pytest.approx(o) and float(out.alpha.max()) == pytest.approx(o)
    for other in (out.alpha.T, out.alpha.flip(0), out.alpha.flip(1)):
        torch.testing.assert_close(other, out.alpha, rtol=0, atol=1e-6)
    # The footprint's second moment is the projected covariance (a little less: it is cut at α = 1/255).
    cov2d = project_gaussians(means, covariances(quats, scales), cam).cov2d[0]
    ys, xs = torch.meshgrid(torch.arange(33.0), torch.arange(33.0), indexing="ij")
    d = torch.stack((xs - 16, ys - 16), -1).reshape(-1, 2)
    w = out.alpha.reshape(-1)
    moment = (w[:, None, None] * d[:, :, None] * d[:, None, :]).sum(0) / w.sum()
    torch.testing.assert_close(moment, cov2d, rtol=0.1, atol=0.05)


def test_the_nearer_gaussian_wins_whatever_the_order():
    cam = camera(31, 31)
    means = torch.tensor([[0.0, 0.0, 0.1], [0.02, 0.0, -0.1]])  # the first is nearer the camera
    quats, scales = torch.tensor([[1.0, 0, 0, 0]] * 2), torch.full((2, 3), 0.05)
    opacities, colors = torch.ones(2), torch.tensor([[1.0, 0, 0], [0, 0, 1.0]])
    front_first = rasterize_gaussians(means, quats, scales, opacities, colors, cam)
    back_first = rasterize_gaussians(means.flip(0), quats, scales, opacities.flip(0), colors.flip(0), cam)
    torch.testing.assert_close(back_first.image, front_first.image, rtol=0, atol=0)
    centre = front_first.image[15, 15]
    assert centre[0] > 0.98 and centre[2] < 0.02
    # The same for a random scene under a random permutation.
    scene = random_scene(60, 4)
    perm = torch.randperm(60, generator=torch.Generator().manual_seed(0))
    a = rasterize_gaussians(*scene, camera())
    b = rasterize_gaussians(*(t[perm] for t in scene), camera())
    torch.testing.assert_close(b.image, a.image, rtol=0, atol=1e-6)


def stack(opacity, n=500):
    """``n`` identical Gaussians of one opacity on the optical axis at increasing depth, random colours."""
    z = torch.linspace(0.25, -0.25, n)  # the camera looks down -z: depth grows along the stack
    means = torch.stack((torch.zeros(n), torch.zeros(n), z), -1)
    colors = torch.rand(n, 3, generator=torch.Generator().manual_seed(5))
    return means, torch.tensor([[1.0, 0, 0, 0]] * n), torch.full((n, 3), 0.02), torch.full((n,), opacity), colors


def test_transmittance_stays_in_range_and_stops_early():
    cam = camera(31, 31)
    means, quats, scales, opacities, colors = stack(0.95)
    out = rasterize_gaussians(means, quats, scales, opacities, colors, cam, (0.0, 0.0, 0.0))
    assert float(out.alpha.max()) <= 1.0 and float(out.alpha.min()) >= 0.0
    assert float(out.image.max()) <= 1.0 + 1e-6 and float(out.image.min()) >= 0.0
    # At the centre α = 0.95 for every layer: T goes 1, 0.05, 0.0025, 1.25e-4; the fourth layer would
    # take it below 1e-4, so it and the 496 behind it are skipped.
    assert float(out.alpha[15, 15]) == pytest.approx(1 - 0.05 ** 3, abs=1e-7)
    expected = sum(colors[i].double() * 0.95 * 0.05 ** i for i in range(3))
    torch.testing.assert_close(out.image[15, 15].double(), expected, rtol=0, atol=1e-6)


def test_many_faint_layers_accumulate_in_float64():
    cam = camera(31, 31)
    out = rasterize_gaussians(*stack(0.01), cam)  # T = 0.99^500 ≈ 0.0066 > 1e-4: nothing stops
    assert float(out.alpha[15, 15]) == pytest.approx(1 - 0.99 ** 500, rel=1e-6)
    assert float(out.alpha.max()) <= 1.0


# --- gradients ---------------------------------------------------------------------------------

def test_gradients_are_finite_and_nonzero():
    scene = [t.requires_grad_() for t in random_scene(40, 6)]
    out = rasterize_gaussians(*scene, camera(24, 20))
    target = torch.rand(20, 24, 3, generator=torch.Generator().manual_seed(1))
    ((out.image - target) ** 2).sum().add(out.alpha.sum()).backward()
    for name, t in zip(("means", "quats", "scales", "opacities", "colors"), scene):
        assert torch.isfinite(t.grad).all(), name
        assert t.grad.abs().sum() > 0, name


def test_gradcheck():
    means, quats, scales, opacities, colors = random_scene(4, 7, torch.float64, max_opacity=0.9)
    means[:, :2] *= 0.3  # near the middle, overlapping
    scales = scales.clamp(min=0.02)
    cam = camera(16, 16)

    def render(m, q, s, o, c):
        out = rasterize_gaussians(m, q, s, o, c, cam, (0.3, 0.6, 0.9))
        return out.image, out.alpha

    inputs = [t.clone().requires_grad_() for t in (means, quats, scales, opacities, colors)]
    assert torch.autograd.gradcheck(render, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=True)


# --- inputs ------------------------------------------------------------------------------------

def test_bad_inputs():
    means, quats, scales, opacities, colors = random_scene(5, 8)
    cam = camera()
    with pytest.raises(SignlibError, match="colors"):
        rasterize_gaussians(means, quats, scales, opacities, colors[:4], cam)
    with pytest.raises(SignlibError, match="quats"):
        rasterize_gaussians(means, quats[:, :3], scales, opacities, colors, cam)
    with pytest.raises(SignlibError, match="means"):
        rasterize_gaussians(means[:, :2], quats, scales, opacities, colors, cam)
    bad = means.clone()
    bad[2, 1] = float("nan")
    with pytest.raises(SignlibError, match="means contains NaN"):
        rasterize_gaussians(bad, quats, scales, opacities, colors, cam)
    with pytest.raises(SignlibError, match="zero quaternion"):
        rasterize_gaussians(means, quats * 0, scales, opacities, colors, cam)
    with pytest.raises(SignlibError, match="background"):
        rasterize_gaussians(means, quats, scales, opacities, colors, cam, (1.0, 1.0))
    with pytest.raises(SignlibError, match="project_gaussians"):
        project_gaussians(means, covariances(quats, scales)[:3], cam)


def test_no_gaussians_give_the_background():
    empty = [torch.zeros(0, 3), torch.zeros(0, 4), torch.zeros(0, 3), torch.zeros(0), torch.zeros(0, 3)]
    out = rasterize_gaussians(*empty, camera(), torch.tensor([0.2, 0.4, 0.6]))
    torch.testing.assert_close(out.image, torch.tensor([0.2, 0.4, 0.6]).expand(40, 48, 3))
    assert out.alpha.shape == (40, 48) and not out.alpha.any() and out.pairs == 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_gsplat_backend_needs_cuda():
    with pytest.raises(SignlibError, match="CUDA"):
        render_gsplat(*random_scene(3, 9), camera(), (1.0, 1.0, 1.0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="gsplat's rasteriser needs CUDA; the CPU rasteriser "
                    "is checked against its projection helpers above")
def test_gsplat_agrees_on_a_gpu():
    """gsplat's CUDA rasteriser and the CPU one render a random scene to within PSNR >= 30 dB
    (they differ only in rounding and in α's upper clamp, 0.999 against 0.99)."""
    scene, cam, bg = random_scene(300, 10), camera(96, 80), (0.2, 0.4, 0.6)
    cpu = rasterize_gaussians(*scene, cam, bg)
    gpu = render_gsplat(*scene, cam, bg)
    assert gpu.image.shape == cpu.image.shape and gpu.pairs == -1
    mse = float(((gpu.image - cpu.image) ** 2).mean())
    assert 10 * math.log10(1.0 / max(mse, 1e-20)) >= 30.0
