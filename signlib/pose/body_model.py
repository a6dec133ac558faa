"""Optional SMPL-X body model (through the ``smplx`` package) for ``rot6d`` features.

The SMPL-X/MANO model files are licensed and never ship with the project; this module is used only
when the user points to them (e.g. ``SMPLXBodyModel(os.environ["SIGNLIB_SMPLX_DIR"])``). Without
them, joint positions come from :mod:`signlib.pose.skeleton`.

Two layers:

- :func:`features_to_smplx_pose` (pure, runs everywhere): ``(T, D)`` 6D features → SMPL-X axis-angle
  ``body_pose`` ``(T, 21, 3)`` (joints outside the layout are zero), ``left_hand_pose`` and
  ``right_hand_pose`` ``(T, 15, 3)``. The left hand, stored in the right-hand convention, is
  mirrored back to the left-hand convention: axis-angle ``(x, y, z) -> (x, -y, -z)``.
- :class:`SMPLXBodyModel`: loads the model (``use_pca=False, flat_hand_mean=True``, so zero hand
  pose is a flat hand as in the template skeleton) and returns joints and vertices.

Note: ``smplx`` reads ``.npz`` model files with ``allow_pickle=True``; only load model files from
the official source.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from signlib.errors import SignlibError, file_error
from signlib.pose.layout import SMPLX_JOINT_INDEX, Layout, get_layout
from signlib.pose.rotation import mirror_axis_angle, rot6d_to_axis_angle

NUM_BODY_JOINTS = 21  # SMPL-X body_pose joints: 1..21 (pelvis, joint 0, is global_orient)


@dataclass(frozen=True, eq=False)
class SMPLXPose:
    """SMPL-X pose parameters, axis-angle.

    Attributes:
        body_pose: ``(T, 21, 3)``; ``body_pose[:, i]`` is SMPL-X joint ``i + 1``.
        left_hand_pose: ``(T, 15, 3)``, MANO joint order, left-hand convention.
        right_hand_pose: ``(T, 15, 3)``, MANO joint order.
    """

    body_pose: torch.Tensor
    left_hand_pose: torch.Tensor
    right_hand_pose: torch.Tensor

    @property
    def frames(self) -> int:
        return self.body_pose.shape[0]


@dataclass(frozen=True, eq=False)
class BodyModelOutput:
    """Posed SMPL-X model: ``joints (T, J, 3)`` (as ``smplx`` returns them, SMPL-X joint indices
    first) and ``vertices (T, V, 3)``, metres, same frame as the template skeleton."""

    joints: torch.Tensor
    vertices: torch.Tensor


def features_to_smplx_pose(features, layout: Layout | str) -> SMPLXPose:
    """``(T, D)`` rot6d features (torch or numpy) → :class:`SMPLXPose` (differentiable for torch).

    Upper-body joints go to their SMPL-X ``body_pose`` slot (SMPL-X joint index - 1, from
    :data:`signlib.pose.layout.SMPLX_JOINT_INDEX`); every other body joint stays zero, which is the
    SMPL-X rest pose and matches the template skeleton's fixed spine3 for the ``rot6d`` layout.
    """
    lay = get_layout(layout)
    if lay.kind != "rot6d":
        raise SignlibError(f"SMPL-X pose needs a rot6d layout, got {lay.name!r}")
    x = features if isinstance(features, torch.Tensor) else torch.as_tensor(np.asarray(features, dtype=np.float32))
    if x.ndim != 2:
        raise SignlibError(f"SMPL-X pose needs (T, D) features, got shape {tuple(x.shape)}")
    lay.check(x)
    aa = rot6d_to_axis_angle(x.reshape(x.shape[0], lay.num_joints, 6))   # (T, J, 3)
    body = lay.joint_slice("body")
    slots = torch.tensor([SMPLX_JOINT_INDEX[name] - 1 for name in lay.joints[body]])
    body_pose = aa.new_zeros(x.shape[0], NUM_BODY_JOINTS, 3)
    body_pose[:, slots] = aa[:, body]
    return SMPLXPose(body_pose=body_pose,
                     left_hand_pose=mirror_axis_angle(aa[:, lay.joint_slice("left_hand")]),
                     right_hand_pose=aa[:, lay.joint_slice("right_hand")])


def _model_file(model_dir: Path, gender: str) -> Path:
    """The SMPL-X model file in ``model_dir`` or its ``smplx/`` subfolder (the layout
    ``smplx.create`` expects), ``.npz`` preferred."""
    stem = f"SMPLX_{gender.upper()}"
    for folder in (model_dir, model_dir / "smplx"):
        for ext in ("npz", "pkl"):
            if (folder / f"{stem}.{ext}").is_file():
                return folder / f"{stem}.{ext}"
    raise file_error(model_dir, f"no SMPL-X model file {stem}.npz or .pkl here or in smplx/ "
                                "(download it from https://smpl-x.is.tue.mpg.de)")


class SMPLXBodyModel:
    """An SMPL-X body model posed by ``rot6d`` features.

    Args:
        model_dir: folder with ``SMPLX_<GENDER>.npz`` (or ``.pkl``), directly or in ``smplx/``.
        gender: ``"neutral"``, ``"male"`` or ``"female"``.
        num_betas / num_expression_coeffs: shape and expression components (kept at zero unless
            ``betas`` is given to :meth:`forward`).
    """

    def __init__(self, model_dir: str | os.PathLike, gender: str = "neutral", num_betas: int = 10,
                 num_expression_coeffs: int = 10):
        path = Path(model_dir)
        if not path.is_dir():
            raise file_error(path, "SMPL-X model folder not found")
        file = _model_file(path, gender)
        # Imported here: smplx is only needed by users who have the licensed model files.
        import smplx

        try:
            self.model = smplx.create(str(file), model_type="smplx", gender=gender,
                                      ext=file.suffix[1:], use_pca=False, flat_hand_mean=True,
                                      num_betas=num_betas, num_expression_coeffs=num_expression_coeffs)
        except Exception as exc:  # any loader failure becomes one line naming the file
            raise file_error(file, f"cannot load the SMPL-X model ({type(exc).__name__}: {exc})") from None
        self.num_betas = num_betas
        self.num_expression_coeffs = num_expression_coeffs

    @property
    def faces(self) -> np.ndarray:
        """``(F, 3)`` triangle vertex indices."""
        return np.asarray(self.model.faces, dtype=np.int64)

    def pose(self, features, layout: Layout | str) -> SMPLXPose:
        """See :func:`features_to_smplx_pose`."""
        return features_to_smplx_pose(features, layout)

    def forward(self, features, layout: Layout | str, betas=None) -> BodyModelOutput:
        """Pose the model with ``(T, D)`` rot6d features.

        Args:
            features: ``(T, D)``.
            betas: optional ``(num_betas,)`` shape, shared by all frames; zero (mean shape) if None.
        Returns:
            :class:`BodyModelOutput` with ``joints (T, J, 3)`` and ``vertices (T, V, 3)``.
        """
        p = features_to_smplx_pose(features, layout)
        # smplx models hold float32 buffers.
        T, dtype = p.frames, torch.float32
        zeros = lambda n: torch.zeros(T, n, dtype=dtype)  # noqa: E731
        shape = zeros(self.num_betas) if betas is None else \
            torch.as_tensor(betas, dtype=dtype).reshape(1, -1).expand(T, -1)
        # Every parameter is passed with T rows: the model's own parameters have batch size 1.
        out = self.model(betas=shape, global_orient=zeros(3), transl=zeros(3),
                         body_pose=p.body_pose.reshape(T, -1).to(dtype),
                         left_hand_pose=p.left_hand_pose.reshape(T, -1).to(dtype),
                         right_hand_pose=p.right_hand_pose.reshape(T, -1).to(dtype),
                         jaw_pose=zeros(3), leye_pose=zeros(3), reye_pose=zeros(3),
                         expression=zeros(self.num_expression_coeffs), return_verts=True)
        return BodyModelOutput(joints=out.joints, vertices=out.vertices)

    __call__ = forward
