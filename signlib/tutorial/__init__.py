"""The workshop tutorial's code (``notebooks/tutorial/``): everything the tutorial notebooks call
that is more than a one-line call into the rest of signlib, so the notebooks define no function.

- :mod:`~signlib.tutorial.toy2d`: flow matching from zero on 2-D points (data, a small MLP that
  predicts a velocity or a clean sample, the CFM and reconstruction losses, Euler sampling);
- :mod:`~signlib.tutorial.distances`: how far samples are from the data (nearest-neighbour
  distance, sliced Wasserstein) and the tables of notebook 01;
- :mod:`~signlib.tutorial.keyframes1d`: keyframe conditioning on 1-D curves (a tiny conditional
  1-D conv net against linear interpolation);
- :mod:`~signlib.tutorial.plots`: the figures of notebooks 01 and 02, returned as PNG images;
- :mod:`~signlib.tutorial.workshop`: the real SignSparK at workshop size (a small generated corpus,
  a tiny model trained in seconds, or a trained one loaded);
- :mod:`~signlib.tutorial.compare`: what that model does (keyframe- and text-to-pose against SLERP
  by DTW-JPE, skeleton frames and a video, moving a keyframe).

Nothing in signlib imports this package: it sits above the stages, below only the notebooks.
"""
