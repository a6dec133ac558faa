"""The systems SignSparK is measured against, one concept per module.

- :mod:`~signlib.baselines.slerp`: keyframe interpolation (SLERP of rotations, straight lines of
  keypoints), the keyframe-to-pose baseline;
- :mod:`~signlib.baselines.stitching`: naive stitching of dictionary citation forms;
- :mod:`~signlib.baselines.regression` and :mod:`~signlib.baselines.regression_training`: a
  Progressive-Transformer-like regression text-to-pose model and its loss.
"""
