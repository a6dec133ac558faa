"""Sign segmentation: FAST, baselines, BIO decoding and segmentation metrics."""
