"""Pose core: layouts, rotations (6D, SLERP, mirroring), template skeleton + forward kinematics,
normalisation and the optional SMPL-X/MANO body model."""

from signlib.pose.body_model import SMPLXBodyModel, SMPLXPose, features_to_smplx_pose
from signlib.pose.layout import Layout, get_layout, layout_names, xyz_layout_for
from signlib.pose.skeleton import (DEFAULT_SKELETON, Skeleton, fk_point_names, forward_kinematics,
                                   forward_kinematics_np, rest_features)

__all__ = ["Layout", "get_layout", "layout_names", "xyz_layout_for",
           "Skeleton", "DEFAULT_SKELETON", "forward_kinematics", "forward_kinematics_np",
           "fk_point_names", "rest_features",
           "SMPLXBodyModel", "SMPLXPose", "features_to_smplx_pose"]
