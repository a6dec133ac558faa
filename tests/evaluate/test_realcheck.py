"""The real DGS check: sentences load normalised with their split, stitched twin and FAST keyframes."""

import numpy as np
import pytest
import torch

from signlib.data.realdata import realdata_dir
from signlib.evaluate.realcheck import kf2p_sentences, load_real_sentences, training_clips
from signlib.segment.fast import FAST, FASTConfig

needs_realdata = pytest.mark.skipif(realdata_dir() is None, reason="../shared/realdata is absent")


@needs_realdata
def test_real_sentences_are_normalised_paired_and_split():
    torch.manual_seed(0)
    segmenter = FAST(FASTConfig(d_model=16, layers=1, heads=2, ff=32)).eval()
    sentences = load_real_sentences(segmenter, convention="signspark", b_threshold=0.5, inside_threshold=0.5,
                                    min_length=2)
    assert len(sentences) == 32 and {s.split for s in sentences} == {"train", "test"}
    for s in sentences:
        assert s.original.layout == s.stitched.layout == "xyz_mediapipe"
        x = s.original.features.reshape(s.original.num_frames, -1, 3)
        lay = s.original.get_layout()
        left, right = lay.joint_index("left_shoulder"), lay.joint_index("right_shoulder")
        seen = s.original.valid_or_all()[:, [left, right]].all(1)
        width = np.linalg.norm(x[seen, left] - x[seen, right], axis=-1)
        assert width.mean() == pytest.approx(1.0, rel=1e-4)  # shoulder-normalised over observed frames
        assert all(0 <= k < s.original.num_frames for k in s.keyframes)
    kept, left_out = kf2p_sentences(sentences)
    assert len(kept) + left_out == 16 and all(len(s.keyframes) for s in kept)
    assert all(len(c.keyframes) for c in training_clips(sentences))


def test_absent_folder_gives_no_sentences(tmp_path):
    assert load_real_sentences(None, root=tmp_path / "missing") == []
