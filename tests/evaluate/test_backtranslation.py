"""Back-translation: the text vocabulary, padding invariance, overfitting four clips through the
shared training loop, save/load, and one-line errors for bad input."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.evaluate.backtranslation import (BackTranslationConfig, PoseToText, back_translate,
                                              load_backtranslation, make_loss, make_sampler, resample_time,
                                              save_backtranslation, train_backtranslation)
from signlib.evaluate.textvocab import TextVocab, join_tokens, tokenize
from signlib.generate.text2gloss import GlossVocab

TEXTS = [("Her tea is cold.", "ASL"), ("Her tea is warm.", "BSL"),
         ("Braucht Sarah ein Ei?", "DGS"), ("周六汤姆在哪里出售球？", "CSL")]
GLOSSES = [["TEA", "HER", "COLD"], ["TEA", "HER", "WARM"], ["SARAH", "EI", "BRAUCHEN"], ["星期六", "汤姆", "卖", "球", "哪里"]]
TINY = BackTranslationConfig(layout="rot6d", max_frames=64, d_model=64, encoder_layers=1, decoder_layers=1,
                             heads=4, ff=128, dropout=0.0, downsample=4, max_tokens=16)


def smooth_clip(T: int, seed: int, D: int = 240) -> np.ndarray:
    """``(T, D)`` smooth curves (a few sinusoids per channel): signing-like, cheap to learn."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)[:, None]
    freq, phase, amp = rng.uniform(0.5, 2.0, D), rng.uniform(0, 2 * np.pi, D), rng.uniform(0.1, 0.5, D)
    return (amp * np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.3, D)).astype(np.float32)


def make_sequences(lengths=(40, 40, 33, 47), seeds=(0, 0, 2, 3)) -> list[Sequence]:
    """The four texts; the ASL and the BSL clip have the same poses, so only the sign-language
    token can tell their texts apart."""
    return [Sequence(features=smooth_clip(T, seed), layout="rot6d", fps=25.0, text=text, language=lang, id=f"clip{k}",
                     segments=[(4 * i, 4 * i + 3, g) for i, g in enumerate(glosses)])
            for k, ((text, lang), T, seed, glosses) in enumerate(zip(TEXTS, lengths, seeds, GLOSSES))]


def random_model(config=TINY) -> PoseToText:
    torch.manual_seed(0)
    vocab = TextVocab.build(t for t, _ in TEXTS)
    model = PoseToText(config, vocab, GlossVocab.build(GLOSSES))
    model.set_statistics(torch.randn(config.dim) * 0.1, torch.rand(config.dim) + 0.5)
    return model.eval()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bt")
    # One thread: a model this small gains nothing from two, and when another process holds the
    # second core, two threads spin-wait on each other.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, result = train_backtranslation(make_sequences(), folder, steps=150, batch_size=8, lr=3e-3,
                                              progress=False, config=TINY)
    finally:
        torch.set_num_threads(threads)
    return model, result, folder


def test_vocab_round_trip_english_and_chinese():
    vocab = TextVocab.build(["Does Peter ask a doctor?", "Peter is cold.", "Braucht Sarah ein Ei?",
                             "Der Koch liest eine E-Mail.", "周六汤姆在哪里出售球？"])
    assert tokenize("Does Peter ask a doctor?") == ["does", "peter", "ask", "a", "doctor", "?"]
    assert tokenize("周六汤姆？") == ["周", "六", "汤", "姆", "？"]
    assert tokenize("eine E-Mail.") == ["eine", "e-mail", "."]
    for text, lang in [("Does Peter ask a doctor?", "ASL"), ("Peter is cold.", "BSL"),
                       ("Der Koch liest eine E-Mail.", "DGS"), ("周六汤姆在哪里出售球？", "CSL")]:
        ids = vocab.encode(text, lang, eos=True)
        assert ids[0] == vocab.language_id(lang) and ids[-1] == TextVocab.EOS and TextVocab.UNK not in ids
        assert vocab.decode(ids) == text                                  # truecased, readable
    again = TextVocab.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again.tokens == vocab.tokens and again.cased == vocab.cased
    assert vocab.decode(vocab.encode("Peter fliegt.", "DGS")) == "Peter <unk>."
    assert len({vocab.language_id(lang) for lang in ("ASL", "BSL", "DGS", "CSL")}) == 4
    assert "peter" in vocab and "<CSL>" not in vocab and "<pad>" not in vocab


def test_join_tokens_spaces_words_and_glues_chinese_and_punctuation():
    assert join_tokens(["later", ",", "the", "man", "falls", "."]) == "later, the man falls."
    assert join_tokens(["周", "六", "Peter", "在", "？"]) == "周六Peter在？"
    assert join_tokens([]) == ""


def test_vocab_rejects_reserved_and_duplicate_words():
    with pytest.raises(SignlibError):
        TextVocab(["a", "a"])
    with pytest.raises(SignlibError):
        TextVocab(["<ASL>"])
    with pytest.raises(SignlibError):
        TextVocab.from_dict({"tokens": []})


def test_config_validation():
    assert BackTranslationConfig(layout="rot6d").dim == 240
    with pytest.raises(SignlibError, match="unknown layout"):
        BackTranslationConfig(layout="nope")
    with pytest.raises(SignlibError, match="heads"):
        BackTranslationConfig(d_model=130, heads=4)
    with pytest.raises(SignlibError, match="downsample"):
        BackTranslationConfig(downsample=0)
    with pytest.raises(SignlibError, match="dropout"):
        BackTranslationConfig(dropout=1.0)
    with pytest.raises(SignlibError, match="ctc_weight"):
        BackTranslationConfig(ctc_weight=-1)


@pytest.mark.parametrize("downsample", [1, 3, 4])
def test_output_does_not_depend_on_padding(downsample):
    model = random_model(dataclasses.replace(TINY, downsample=downsample, ctc_weight=1.0))
    x = torch.randn(2, 50, 240)
    tokens_in = torch.tensor([[4, 9, 10, 11], [5, 12, 13, 14]])
    for T in (29, 32, 33):  # not a multiple of the stride, a multiple, one past it
        mask = torch.arange(50)[None] < torch.tensor([[T], [50]])
        logits, glosses, memory_mask = model(x, mask, tokens_in, with_glosses=True)
        alone, alone_glosses, alone_mask = model(x[:1, :T], mask[:1, :T], tokens_in[:1], with_glosses=True)
        S = -(-T // downsample)
        assert memory_mask[0].sum() == S and alone_mask.shape == (1, S) and alone_mask.all()
        torch.testing.assert_close(logits[:1], alone, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(glosses[:1, :S], alone_glosses, atol=1e-5, rtol=1e-5)


def test_resample_time_keeps_ends_and_interpolates_linearly():
    x = np.arange(5, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)          # (5, 3): 0..4
    y = resample_time(x, 9)
    np.testing.assert_allclose(y[:, 0], np.linspace(0, 4, 9))
    np.testing.assert_allclose(resample_time(x, 5), x)


def test_sampler_is_a_pure_function_of_step_and_rng():
    seqs = make_sequences()
    vocab = TextVocab.build(s.text for s in seqs)
    sample = make_sampler(seqs, vocab, batch_size=6, max_frames=64, max_tokens=16, glosses=GlossVocab.build(GLOSSES))
    a, b = sample(3, np.random.default_rng([0, 3])), sample(3, np.random.default_rng([0, 3]))
    assert all(torch.equal(a[k], b[k]) for k in a)
    B, T, D = a["features"].shape
    assert (B, D) == (6, 240) and T <= 64 and a["mask"].shape == (B, T)
    assert a["tokens_in"].shape == a["tokens_out"].shape
    assert set(a["tokens_in"][:, 0].tolist()) <= {vocab.language_id(lang) for _, lang in TEXTS}
    assert (a["features"][~a["mask"]] == 0).all()                       # padding stays clean
    loss, logs = make_loss()(random_model(), a)
    assert torch.isfinite(loss) and set(logs) == {"ce", "acc", "ctc"}


def test_gloss_ctc_loss_trains_the_gloss_head_and_survives_save_load(tmp_path):
    seqs = make_sequences()
    model = random_model(dataclasses.replace(TINY, ctc_weight=0.5)).train()
    glosses = model.glosses
    batch = make_sampler(seqs, model.vocab, 4, max_frames=64, max_tokens=16, glosses=glosses)(0, np.random.default_rng(0))
    for row, n in zip(batch["glosses"].tolist(), batch["gloss_lengths"].tolist()):
        assert glosses.decode(row) in GLOSSES and len(glosses.decode(row)) == n     # PAD (= blank) pads
    loss, logs = make_loss()(model, batch)
    loss.backward()
    assert logs["ctc"] > 0 and model.gloss_head.weight.grad.abs().sum() > 0
    save_backtranslation(tmp_path, model)
    loaded = load_backtranslation(tmp_path)
    assert loaded.glosses.tokens == glosses.tokens
    torch.testing.assert_close(loaded.gloss_head.weight, model.gloss_head.weight)
    with pytest.raises(SignlibError, match="clip0 has no gloss segments"):
        make_sampler([seqs[0].replace(segments=())], model.vocab, 4, glosses=glosses)
    with pytest.raises(SignlibError, match="clip0 has no text"):
        make_sampler([seqs[0].replace(text=" ")], model.vocab, 4)
    with pytest.raises(SignlibError, match="needs a gloss vocabulary"):
        PoseToText(dataclasses.replace(TINY, ctc_weight=0.5), model.vocab)


def test_tiny_model_overfits_four_clips_and_decodes_their_texts(trained):
    model, result, _ = trained
    assert result.logs["acc"] == 1.0
    seqs = make_sequences()
    assert np.array_equal(seqs[0].features, seqs[1].features)           # ASL "cold", BSL "warm"
    assert back_translate(model, seqs, batch_size=3) == [t for t, _ in TEXTS]


def test_save_load_round_trip_gives_identical_decodes(trained, tmp_path):
    model, _, folder = trained
    loaded = load_backtranslation(folder)
    assert loaded.config == TINY and loaded.vocab.tokens == model.vocab.tokens
    torch.testing.assert_close(loaded.std, model.std)
    seqs = make_sequences()
    assert back_translate(loaded, seqs) == back_translate(model, seqs)
    save_backtranslation(tmp_path, loaded)
    assert back_translate(load_backtranslation(tmp_path), seqs) == back_translate(model, seqs)


def test_bad_inputs_give_clear_errors(trained, tmp_path):
    model, _, folder = trained
    other = Sequence(features=np.zeros((20, 246), np.float32), layout="rot6d_spine3", fps=25.0,
                     text="x", language="ASL", id="spine")
    with pytest.raises(SignlibError, match="spine has layout 'rot6d_spine3' but the model reads 'rot6d'"):
        back_translate(model, [other])
    long = make_sequences()[0].replace(features=smooth_clip(65, 0), id="long")
    with pytest.raises(SignlibError, match="long has 65 frames, over max_frames=64"):
        back_translate(model, [long])
    with pytest.raises(SignlibError, match="unknown sign language"):
        back_translate(model, [make_sequences()[0].replace(language="")])
    with pytest.raises(SignlibError, match="backtranslation.json: not found"):
        load_backtranslation(tmp_path)
    save_backtranslation(tmp_path, model)
    weights = (tmp_path / "final.pt").read_bytes()
    (tmp_path / "final.pt").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(SignlibError, match="final.pt: cannot load weights"):
        load_backtranslation(tmp_path)
    (tmp_path / "final.pt").unlink()
    with pytest.raises(SignlibError, match="final.pt: weights not found"):
        load_backtranslation(tmp_path)
    (tmp_path / "backtranslation.json").write_text('{"format": "something else"}')
    with pytest.raises(SignlibError, match="bad card"):
        load_backtranslation(tmp_path)
    with pytest.raises(SignlibError, match="no sequences"):
        back_translate(model, [])
