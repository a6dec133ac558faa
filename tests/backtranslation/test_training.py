"""Back-translation training: input checks, feature statistics, the fresh model, the sampler (a
pure function of step and rng), the loss with its gloss CTC term, and overfitting four clips
through the shared training loop."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from signlib.backtranslation.training import (build_model, check_sequences, make_loss, make_sampler,
                                              sequence_statistics)
from signlib.errors import SignlibError
from signlib.text.glosses import GlossVocab
from signlib.text.words import TextVocab

from .conftest import GLOSSES, TEXTS, TINY, make_sequences, random_model


def test_check_sequences_names_the_sequence_and_the_caller():
    seqs = make_sequences()
    assert check_sequences(iter(seqs), "rot6d", 64, "x") == seqs            # any iterable, as a list
    with pytest.raises(SignlibError, match="^x: no sequences$"):
        check_sequences([], "rot6d", 64, "x")
    with pytest.raises(SignlibError, match="x: clip0 has layout 'rot6d' but the model reads 'xyz_mediapipe'"):
        check_sequences(seqs, "xyz_mediapipe", 64, "x")
    with pytest.raises(SignlibError, match="x: clip3 has 47 frames, over max_frames=40"):
        check_sequences(seqs[2:], "rot6d", 40, "x")
    with pytest.raises(SignlibError, match="x: clip0 has unknown sign language 'XSL'"):
        check_sequences([seqs[0].replace(language="XSL")], "rot6d", 64, "x")


def test_sequence_statistics_are_per_channel_over_observed_frames_only():
    a, b = make_sequences()[2:]
    valid = np.ones((a.num_frames, a.get_layout().num_joints), bool)
    valid[:10] = False                                   # the first 10 frames: every joint missing
    a = a.replace(features=a.features.copy(), valid=valid)
    a.features[:10] = 1e6                                # garbage where nothing was observed
    mean, std = sequence_statistics([a, b])
    frames = np.concatenate([a.features[10:], b.features])
    np.testing.assert_allclose(mean, frames.mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(std, frames.std(0), rtol=1e-4, atol=1e-5)


def test_build_model_takes_its_vocabularies_and_statistics_from_the_sequences():
    seqs = make_sequences()
    torch.manual_seed(0)
    model = build_model(seqs, TINY)
    assert model.config == TINY and model.vocab.tokens == TextVocab.build(t for t, _ in TEXTS).tokens
    assert model.glosses.tokens == GlossVocab.build(GLOSSES).tokens
    mean, std = sequence_statistics(seqs)
    torch.testing.assert_close(model.mean, torch.from_numpy(mean))
    torch.testing.assert_close(model.std, torch.from_numpy(std).clamp_min(0.1 * float(np.median(std))))
    plain = build_model(seqs, dataclasses.replace(TINY, ctc_weight=0.0))
    assert plain.glosses is None                         # no CTC head: glosses are not needed
    with pytest.raises(SignlibError, match="backtranslation: spine has layout 'rot6d_spine3'"):
        build_model([seqs[0].replace(features=np.zeros((20, 246), np.float32), layout="rot6d_spine3", id="spine")],
                    TINY)


def test_sampler_is_a_pure_function_of_step_and_rng():
    seqs = make_sequences()
    vocab = TextVocab.build(s.text for s in seqs)
    sample = make_sampler(seqs, vocab, batch_size=6, max_frames=64, max_tokens=16, glosses=GlossVocab.build(GLOSSES))
    a, b = sample(3, np.random.default_rng([0, 3])), sample(3, np.random.default_rng([0, 3]))
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = sample(3, np.random.default_rng([0, 4]))
    assert c["features"].shape != a["features"].shape or not torch.equal(c["features"], a["features"])
    B, T, D = a["features"].shape
    assert (B, D) == (6, 240) and T <= 64 and a["mask"].shape == (B, T)
    assert a["tokens_in"].shape == a["tokens_out"].shape
    assert set(a["tokens_in"][:, 0].tolist()) <= {vocab.language_id(lang) for _, lang in TEXTS}
    assert (a["features"][~a["mask"]] == 0).all()                       # padding stays clean
    loss, logs = make_loss()(random_model(), a)
    assert torch.isfinite(loss) and set(logs) == {"ce", "acc", "ctc"}


def test_sampler_speeds_clips_up_and_down_within_time_scale_and_max_frames():
    seqs = make_sequences()
    vocab = TextVocab.build(s.text for s in seqs)
    sample = make_sampler(seqs, vocab, batch_size=8, max_frames=50, time_scale=(0.5, 2.0), noise=0.0, bucket=0)
    lengths = np.concatenate([sample(s, np.random.default_rng(s))["mask"].sum(1).numpy() for s in range(10)])
    assert lengths.max() <= 50 and lengths.min() >= round(33 * 0.5)
    assert len(set(lengths.tolist())) > 4                # speeds vary, not only the four clip lengths
    same = make_sampler(seqs, vocab, batch_size=8, time_scale=(1.0, 1.0), noise=0.0, bucket=0)
    batch = same(0, np.random.default_rng(0))
    rows = {len(s.features): s.features for s in seqs}
    for x, n in zip(batch["features"].numpy(), batch["mask"].sum(1).tolist()):   # unchanged clips
        np.testing.assert_allclose(x[:n], rows[n], atol=1e-6)


def test_sampler_rejects_bad_settings_and_texts_naming_the_clip():
    seqs = make_sequences()
    vocab = TextVocab.build(s.text for s in seqs)
    glosses = GlossVocab.build(GLOSSES)
    with pytest.raises(SignlibError, match="clip0 has no gloss segments"):
        make_sampler([seqs[0].replace(segments=())], vocab, 4, glosses=glosses)
    with pytest.raises(SignlibError, match="clip0 has no text"):
        make_sampler([seqs[0].replace(text=" ")], vocab, 4)
    with pytest.raises(SignlibError, match=r"time_scale=\(1.5, 1.0\) must be 0 < low <= high"):
        make_sampler(seqs, vocab, 4, time_scale=(1.5, 1.0))
    with pytest.raises(SignlibError, match="clip3 has 11 tokens of text, over max_tokens - 1 = 9"):
        make_sampler(seqs, vocab, 4, max_tokens=10)
    with pytest.raises(SignlibError, match="make_sampler: no sequences"):
        make_sampler([], vocab, 4)


def test_gloss_ctc_loss_trains_the_gloss_head():
    seqs = make_sequences()
    model = random_model(dataclasses.replace(TINY, ctc_weight=0.5)).train()
    glosses = model.glosses
    batch = make_sampler(seqs, model.vocab, 4, max_frames=64, max_tokens=16, glosses=glosses)(0, np.random.default_rng(0))
    for row, n in zip(batch["glosses"].tolist(), batch["gloss_lengths"].tolist()):
        assert glosses.decode(row) in GLOSSES and len(glosses.decode(row)) == n     # PAD (= blank) pads
    loss, logs = make_loss()(model, batch)
    loss.backward()
    assert logs["ctc"] > 0 and model.gloss_head.weight.grad.abs().sum() > 0
    without = {k: v for k, v in batch.items() if k not in ("glosses", "gloss_lengths")}
    with pytest.raises(SignlibError, match="ctc_weight > 0 but the batch has no glosses"):
        make_loss()(model, without)
    plain = random_model(dataclasses.replace(TINY, ctc_weight=0.0))
    _, logs = make_loss()(plain, without)
    assert set(logs) == {"ce", "acc"}


def test_tiny_model_overfits_four_clips_through_the_training_loop(trained):
    model, result, folder = trained
    assert result.step == 150 and result.logs["acc"] == 1.0
    rows = json.loads(result.paths["metrics"].read_text())
    assert rows[-1]["ce"] < rows[0]["ce"] / 10, (rows[0], rows[-1])
    assert (folder / "final.pt").exists() and (folder / "last.pt").exists() and (folder / "model.json").exists()
    assert not model.training
