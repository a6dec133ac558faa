"""Corpus folders (deterministic, safe to interrupt), signer splits and padded batches."""

import dataclasses
import re

import numpy as np
import pytest
import torch

from signlib.data.batching import PAD_LABEL, collate
from signlib.data.corpus import Corpus, split_signers, write_corpus
from signlib.data.sequence import Sequence
from signlib.data.store import write_clip
from signlib.errors import SignlibError
from signlib.io import write_json


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


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_same_clips_give_byte_identical_content_named_files(tmp_path):
    clips = _clips(2, 2)
    splits = {"s0": "train", "s1": "test"}
    corpus = write_corpus(tmp_path / "a", clips, splits)
    write_corpus(tmp_path / "b", clips, splits)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert all(re.fullmatch(rf"clips/{c.id}\.[0-9a-f]{{16}}\.npz", c.file) for c in corpus.clips)
    before = _files(tmp_path / "a")
    write_corpus(tmp_path / "a", clips, splits)  # rewriting the same corpus changes no byte
    assert _files(tmp_path / "a") == before


def test_a_write_that_fails_midway_leaves_the_previous_corpus_untouched(tmp_path):
    old, splits = _clips(2, 2), {"s0": "train", "s1": "test"}
    write_corpus(tmp_path, old, splits)
    before = _files(tmp_path)
    changed = [dataclasses.replace(c, features=c.features + 1) for c in old]

    def fails_after_two():
        yield from changed[:2]
        raise KeyboardInterrupt  # the caller is stopped while clip 3 is due

    with pytest.raises(KeyboardInterrupt):
        write_corpus(tmp_path, fails_after_two(), splits)
    assert _files(tmp_path) == before  # the new clips it had written are gone again
    for seq, was in zip(Corpus(tmp_path), old, strict=True):
        np.testing.assert_array_equal(seq.features, was.features)


def test_a_rewrite_drops_clips_the_new_index_does_not_list_and_leaves_foreign_files(tmp_path):
    clips, splits = _clips(2, 2), {"s0": "train", "s1": "test"}
    write_corpus(tmp_path, clips, splits)
    (tmp_path / "clips" / "notes.txt").write_text("mine")
    (tmp_path / "clips" / ".s0_0.staged").write_bytes(b"left by a killed write")
    corpus = write_corpus(tmp_path, clips[:1], splits)
    names = sorted(p.name for p in (tmp_path / "clips").iterdir())
    assert names == sorted([corpus.clips[0].file.split("/")[1], "notes.txt"])


def test_an_old_layout_corpus_is_replaced_cleanly(tmp_path):
    clips, splits = _clips(1, 2), {"s0": "train"}
    write_clip(tmp_path / "clips" / "s0_0.npz", clips[0])  # clips/<id>.npz, as before content names
    write_json(tmp_path / "index.json", {"layout": "xyz_mediapipe", "fps": 25, "clips": [
        {"id": "s0_0", "file": "clips/s0_0.npz", "language": "ASL", "signer": "s0", "split": "train",
         "num_frames": clips[0].num_frames, "text": "a b", "glosses": ["A", "B"]}]})
    assert len(Corpus(tmp_path)) == 1
    corpus = write_corpus(tmp_path, clips, splits)
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == sorted(c.file[6:] for c in corpus.clips)


def test_an_index_pointing_to_missing_clips_is_an_error_when_opened(tmp_path):
    corpus = write_corpus(tmp_path, _clips(2, 1), {"s0": "train", "s1": "test"})
    (tmp_path / corpus.clips[1].file).unlink()
    with pytest.raises(SignlibError, match=rf"index\.json: 1 clip file\(s\) it lists are missing "
                                           rf"\(first: {corpus.clips[1].file}\)"):
        Corpus(tmp_path)


def test_duplicate_ids_are_refused_before_anything_is_written(tmp_path):
    clips = _clips(1, 1)
    with pytest.raises(SignlibError, match=r"clip ids are not unique \('s0_0' twice\)"):
        write_corpus(tmp_path, clips + clips, {"s0": "train"})
    assert not (tmp_path / "index.json").exists() and not list((tmp_path / "clips").iterdir())
    with pytest.raises(SignlibError, match="corpus index not found \\(run"):  # nothing of ours left to hint at
        Corpus(tmp_path)
