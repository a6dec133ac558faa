"""SignSparK and its baselines: text conditioning, the 1D UNet, conditional flow matching
(objective, guidance, samplers) and the inference modes built on them."""
