"""Rendering: skeleton, mesh and Gaussian-avatar frames and videos (the method's last step).

- :mod:`~signlib.render.skeleton` (figures) and :mod:`~signlib.render.skeleton_video` (video frames
  with the BIO timeline);
- :mod:`~signlib.render.primitives`, :mod:`~signlib.render.body` (the procedural, licence-free
  capsule body), :mod:`~signlib.render.skinning` (linear blend skinning),
  :mod:`~signlib.render.keypoint_mesh` (capsules between keypoints);
- :mod:`~signlib.render.avatar` (Gaussians on the body), :mod:`~signlib.render.scene` (what to draw
  for a sequence), :mod:`~signlib.render.camera`;
- rasterisers: :mod:`~signlib.render.raster` (z-buffer, Lambert), :mod:`~signlib.render.splat`
  (EWA splatting on CPU), :mod:`~signlib.render.gsplat_backend` (gsplat on CUDA);
- :mod:`~signlib.render.frames` (frame streams, side by side) and :mod:`~signlib.render.video` (mp4).
"""
