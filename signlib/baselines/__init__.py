"""The systems SignSparK is measured against, one concept per module.

- :mod:`~signlib.baselines.slerp`: keyframe interpolation (SLERP of rotations, straight lines of
  keypoints), the keyframe-to-pose baseline;
- :mod:`~signlib.baselines.stitching`: naive stitching of dictionary citation forms;
- :mod:`~signlib.baselines.regression` and :mod:`~signlib.baselines.regression_training`: a
  Progressive-Transformer-like regression text-to-pose model and its loss;
- :mod:`~signlib.baselines.vq`, :mod:`~signlib.baselines.tokenizer`,
  :mod:`~signlib.baselines.token_generator`, :mod:`~signlib.baselines.soke` and
  :mod:`~signlib.baselines.soke_training`: the SOKE-style tokenised generator (EMA vector quantiser,
  decoupled per-part VQ-VAE tokenizer, multi-head text-to-token transformer with optional retrieved
  dictionary signs, training and inference);
- :mod:`~signlib.baselines.signllm` and :mod:`~signlib.baselines.signllm_training`: SignLLM's MLSF
  and Prompt2LangGloss modes, re-implemented from the paper's description, with the
  reinforcement-style loss and the priority learning channel.
"""
