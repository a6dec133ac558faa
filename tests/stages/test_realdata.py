"""The real DGS check's inputs: sentences load normalised with their split, stitched twin and FAST
keyframes, only from a real-data folder that matches the committed ``realdata.json``."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from signlib.data.realdata import MANIFEST
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.segment.configs import FASTConfig
from signlib.segment.decode import DecodeConfig
from signlib.segment.fast import FAST
from signlib.stages.realdata import RealSentence, kf2p_sentences, load_real_sentences, training_clips

REPO = Path(__file__).resolve().parents[2]
DECODE = DecodeConfig(convention="signspark", b_threshold=0.5, inside_threshold=0.5, min_length=2)


@pytest.fixture
def at_repo_root(monkeypatch):
    """Run where the stages run: the repository root, which holds the committed manifest."""
    monkeypatch.chdir(REPO)


def _sentence(split: str, keyframes, T: int = 12, sid: str = "s") -> RealSentence:
    seq = Sequence(np.zeros((T, 147), np.float32), "xyz_mediapipe", 25.0, text="Ein Satz.", language="DGS", id=sid)
    return RealSentence(seq, seq, split, np.asarray(keyframes, np.int64))


@pytest.mark.realdata
def test_real_sentences_are_normalised_paired_and_split(realdata_dir, monkeypatch, at_repo_root):
    monkeypatch.setenv("SIGNLIB_REALDATA", str(realdata_dir))
    torch.manual_seed(0)
    segmenter = FAST(FASTConfig(d_model=16, layers=1, heads=2, ff=32)).eval()
    sentences = load_real_sentences(segmenter, DECODE)
    assert len(sentences) == 32 and {s.split for s in sentences} == {"train", "test"}
    assert sum(s.split == "train" for s in sentences) == 16
    for s in sentences:
        assert s.original.layout == s.stitched.layout == "xyz_mediapipe"
        assert s.split == ("train" if s.original.id.startswith("train") else "test")
        for seq in (s.original, s.stitched):
            x = seq.features.reshape(seq.num_frames, -1, 3)
            lay = seq.get_layout()
            left, right = lay.joint_index("left_shoulder"), lay.joint_index("right_shoulder")
            seen = seq.valid_or_all()[:, [left, right]].all(1)
            width = np.linalg.norm(x[seen, left] - x[seen, right], axis=-1)
            assert width.mean() == pytest.approx(1.0, rel=1e-4)  # shoulder-normalised over observed frames
        assert all(0 <= k < s.original.num_frames for k in s.keyframes)
    kept, left_out = kf2p_sentences(sentences)
    assert len(kept) + left_out == 16 and all(len(s.keyframes) for s in kept)
    assert all(len(c.keyframes) for c in training_clips(sentences))


def test_absent_folder_gives_no_sentences(tmp_path, monkeypatch, at_repo_root):
    monkeypatch.setenv("SIGNLIB_REALDATA", str(tmp_path / "missing"))
    assert load_real_sentences(None, DECODE) == []


def test_a_folder_that_differs_from_the_committed_manifest_is_refused(tmp_path, monkeypatch, at_repo_root):
    fake = tmp_path / "realdata"
    (fake / "dgs_fluent_sentences" / "test").mkdir(parents=True)
    (fake / "dgs_fluent_sentences" / "test" / "test_99_metadata.json").write_text("{}")
    monkeypatch.setenv("SIGNLIB_REALDATA", str(fake))
    recorded = len(json.loads((REPO / MANIFEST).read_text())["files"])
    with pytest.raises(SignlibError, match=f"{recorded + 1} real-data files differ from {MANIFEST}") as err:
        load_real_sentences(None, DECODE)
    assert "\n" not in str(err.value)


def test_kf2p_keeps_test_sentences_with_keyframes_and_counts_the_rest():
    sentences = [_sentence("train", [1, 2, 3], sid="train_1"), _sentence("train", [], sid="train_2"),
                 _sentence("test", [0, 5, 9], sid="test_1"), _sentence("test", [], sid="test_2"),
                 _sentence("test", [4], sid="test_3")]
    kept, left_out = kf2p_sentences(sentences)
    assert [s.original.id for s in kept] == ["test_1", "test_3"] and left_out == 1


def test_training_clips_are_the_train_sentences_with_keyframes():
    sentences = [_sentence("train", [1, 5, 9], sid="train_1"), _sentence("train", [], sid="train_2"),
                 _sentence("test", [0, 5, 9], sid="test_1")]
    [clip] = training_clips(sentences)
    assert (clip.id, clip.text, clip.language) == ("train_1", "Ein Satz.", "DGS")
    assert clip.keyframes.tolist() == [1, 5, 9]

