"""Corpus folders, signer splits and padded batches."""

import numpy as np
import pytest
import torch

from signlib.data.batching import PAD_LABEL, collate
from signlib.data.corpus import Corpus, split_signers, write_corpus
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError


def _clips(n_signers=5, per_signer=2):
    rng = np.random.default_rng(0)
    out = []
    for s in range(n_signers):
        for c in range(per_signer):
            T = int(rng.integers(5, 15))
            out.append(Sequence(features=rng.normal(size=(T, 147)).astype(np.float32), layout="xyz_mediapipe",
                                fps=25, segments=[(1, 3, "A"), (3, 4, "B")], text="a b",
                                language="DGS" if s % 2 else "ASL", signer=f"s{s}", id=f"s{s}_{c}"))
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 5, 12])
def test_split_signers_covers_everyone_and_keeps_training(n):
    signers = [f"p{i}" for i in range(n)]
    split = split_signers(signers, 0.15, 0.2, seed=0)
    assert set(split) == set(signers)
    assert "train" in split.values()
    if n >= 3:
        assert "test" in split.values()


def test_split_signers_is_deterministic_and_order_free():
    signers = [f"p{i}" for i in range(10)]
    assert split_signers(signers, 0.1, 0.2, 3) == split_signers(signers[::-1], 0.1, 0.2, 3)
    assert split_signers(signers, 0.1, 0.2, 3) != split_signers(signers, 0.1, 0.2, 4)


def test_written_corpus_reads_back_lazily_with_unseen_test_signers(tmp_path):
    clips = _clips()
    split = split_signers([c.signer for c in clips], 0.2, 0.2, 0)
    corpus = write_corpus(tmp_path / "c", clips, split)
    assert len(Corpus(tmp_path / "c")) == len(clips)
    assert not set(corpus.signers("train")) & set(corpus.signers("test"))
    np.testing.assert_array_equal(corpus["s3_1"].features, clips[7].features)
    assert corpus.languages() == ["ASL", "DGS"]
    assert all(c.split == split[c.signer] for c in corpus.clips)


def test_corpus_errors_name_the_problem(tmp_path):
    with pytest.raises(SignlibError, match="run the `corpus` stage"):
        Corpus(tmp_path)
    clips = _clips(2, 1)
    with pytest.raises(SignlibError, match="has no split"):
        write_corpus(tmp_path / "c", clips, {"s0": "train"})
    corpus = write_corpus(tmp_path / "c", clips, {"s0": "train", "s1": "test"})
    with pytest.raises(SignlibError, match="no clip 'nope'"):
        corpus.load("nope")
    with pytest.raises(SignlibError, match="unknown split"):
        corpus.select("dev")


def test_collate_pads_with_masks_and_ignore_labels():
    clips = _clips(1, 2)
    batch = collate(clips)
    T = max(c.num_frames for c in clips)
    assert batch.features.shape == (2, T, 147) and batch.mask.dtype == torch.bool
    assert batch.mask.sum(1).tolist() == [c.num_frames for c in clips]
    short = int(np.argmin([c.num_frames for c in clips]))
    n = clips[short].num_frames
    assert (batch.bio[short, n:] == PAD_LABEL).all() and (batch.features[short, n:] == 0).all()
    assert batch.bio[short, 1].item() == 2


def test_collate_rejects_mixed_layouts_and_overlong_clips():
    clips = _clips(1, 2)
    other = Sequence(features=np.zeros((4, 240), np.float32), layout="rot6d", fps=25, id="r")
    with pytest.raises(SignlibError, match="layout"):
        collate(clips + [other])
    with pytest.raises(SignlibError, match="max_frames=3"):
        collate(clips, max_frames=3)


def test_split_signers_by_group_gives_every_language_test_signers():
    signers = [f"{lang}{i}" for lang in ("asl", "bsl", "dgs", "csl") for i in range(3)]
    groups = {s: s[:3] for s in signers}
    split = split_signers(signers, 0.15, 0.2, seed=0, groups=groups)
    for lang in ("asl", "bsl", "dgs", "csl"):
        assert sorted(split[s] for s in signers if groups[s] == lang) == ["test", "train", "val"]
