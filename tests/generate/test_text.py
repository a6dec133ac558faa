"""Text conditioning: the byte encoder's shapes, masks and invariances, the config and registry,
and the pretrained encoder's folder checks, pooling and projection (with a tiny fake backbone)."""

import importlib.util
import json
import re
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from signlib.errors import SignlibError
from signlib.generate.text import (ByteTextEncoder, PretrainedSentenceEncoder, TextEncoderConfig, TextEncoding,
                                   build_text_encoder)
from signlib.text.tokens import NULL, encode_texts

SMALL = TextEncoderConfig(d_model=32, layers=2, heads=4, ff=64, dropout=0.1)
MIXED = (["Hello there", "Guten Tag", "你好世界", None], ["ASL", "DGS", "CSL", "BSL"])


def assert_close(actual, expected, atol=1e-5, rtol=0.0):
    """``torch.testing.assert_close`` in miniature (its first call imports sympy, about a second)."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    diff = (actual - expected).abs().max().item()
    assert diff <= atol + rtol * expected.abs().max().item(), f"max |difference| {diff:.3g}"


def byte_encoder(config=SMALL, seed=0) -> ByteTextEncoder:
    torch.manual_seed(seed)
    return ByteTextEncoder(config).eval()


def test_mixed_language_batch_including_chinese_has_one_token_per_byte_plus_language():
    enc = byte_encoder()(*MIXED)
    assert isinstance(enc, TextEncoding)
    # "你好世界" is 12 UTF-8 bytes; + <CSL> = 13 tokens, the longest row. None is the lone NULL token.
    assert enc.tokens.shape == (4, 13, 32) and enc.mask.shape == (4, 13) and enc.pooled.shape == (4, 32)
    assert enc.mask.dtype == torch.bool and enc.tokens.dtype == torch.float32
    assert enc.mask.sum(1).tolist() == [12, 10, 13, 1]
    assert torch.isfinite(enc.tokens).all() and torch.isfinite(enc.pooled).all()
    assert (enc.tokens[~enc.mask] == 0).all()


def test_pooled_is_the_masked_mean_of_the_tokens():
    enc = byte_encoder()(*MIXED)
    for i, n in enumerate(enc.mask.sum(1).tolist()):
        assert_close(enc.pooled[i], enc.tokens[i, :n].mean(0))


def test_dropped_text_is_the_null_token_with_a_finite_encoding_whatever_the_language():
    ids, mask = encode_texts([None, "hi"], ["ASL", "ASL"])
    assert ids[0, 0].item() == NULL and mask[0].tolist() == [True, False, False]
    model = byte_encoder()
    asl, csl = model([None], ["ASL"]), model([None], ["CSL"])
    assert asl.tokens.shape == (1, 1, 32) and torch.isfinite(asl.tokens).all()
    assert_close(asl.tokens, csl.tokens)


@pytest.mark.parametrize("language_token", [True, False])
def test_language_token_on_tells_languages_apart_and_off_does_not(language_token):
    model = byte_encoder(TextEncoderConfig(d_model=32, heads=4, ff=64, language_token=language_token))
    asl, bsl = model(["thank you"], ["ASL"]), model(["thank you"], ["BSL"])
    assert asl.tokens.shape[1] == 9 + language_token
    assert torch.allclose(asl.pooled, bsl.pooled) is not language_token


@pytest.mark.parametrize("language_token", [True, False])
@pytest.mark.parametrize("texts,languages,match", [
    (["hello"], ["LSF"], "LSF"),               # unknown language, even when its token is off
    ([""], ["ASL"], "empty"),
    (["   "], ["ASL"], "empty"),
    (["a" * 33], ["ASL"], "max_bytes=32"),
    (["猫" * 11], ["CSL"], "33 UTF-8 bytes"),  # 11 characters, 33 bytes: the limit counts bytes
    (["a", "b"], ["ASL"], "2 texts but 1 languages"),
])
def test_bad_texts_and_languages_raise_a_signlib_error_naming_them(texts, languages, match, language_token):
    model = byte_encoder(TextEncoderConfig(d_model=32, ff=64, max_bytes=32, language_token=language_token))
    with pytest.raises(SignlibError, match=match):
        model(texts, languages)


def test_a_text_encodes_the_same_alone_and_padded_in_a_batch():
    model = byte_encoder()
    alone = model(["good morning"], ["BSL"])
    batch = model(["good morning", "a much longer sentence than the first one", "短"], ["BSL", "ASL", "CSL"])
    n = alone.mask.sum().item()
    assert_close(batch.tokens[0, :n], alone.tokens[0], atol=1e-5, rtol=0)
    assert_close(batch.pooled[0], alone.pooled[0], atol=1e-5, rtol=0)


def test_encode_ids_matches_forward_for_callers_that_tokenise_once():
    model = byte_encoder()
    ids, mask = encode_texts(*MIXED)
    assert_close(model.encode_ids(ids, mask).tokens, model(*MIXED).tokens)
    with pytest.raises(SignlibError, match="encode_ids"):
        model.encode_ids(ids, mask[:, :-1])


def test_gradients_reach_the_byte_embedding():
    model = ByteTextEncoder(SMALL).train()
    model(*MIXED).pooled.square().sum().backward()
    grad = model.embed.weight.grad
    assert grad is not None and grad[ord("H")].abs().sum() > 0 and grad[NULL].abs().sum() > 0


@pytest.mark.parametrize("overrides,match", [
    ({"kind": "gpt"}, "kind='gpt' is not one of bytes, pretrained"),
    ({"d_model": 0}, "d_model=0"),
    ({"d_model": 30, "heads": 4}, "heads=4 must divide d_model=30"),
    ({"dropout": 1.0}, "dropout=1.0"),
    ({"max_bytes": 0}, "max_bytes=0"),
])
def test_config_rejects_bad_values_naming_the_field(overrides, match):
    with pytest.raises(SignlibError, match=match):
        TextEncoderConfig(**overrides)


def test_build_text_encoder_picks_the_kind_and_lists_the_kinds_otherwise():
    assert type(build_text_encoder(SMALL)) is ByteTextEncoder
    assert sum(p.numel() for p in build_text_encoder(TextEncoderConfig()).parameters()) > 0
    bad = TextEncoderConfig()
    object.__setattr__(bad, "kind", "clip")  # bypasses the config's own check
    with pytest.raises(SignlibError, match="'clip' is not one of bytes, pretrained"):
        build_text_encoder(bad)


# ---- pretrained: folder checks (no transformers needed) -------------------------------------------

def pretrained(path) -> TextEncoderConfig:
    return TextEncoderConfig(kind="pretrained", d_model=16, pretrained_path=str(path))


def test_pretrained_kind_names_a_missing_folder(tmp_path):
    missing = tmp_path / "no-such-mclip"
    with pytest.raises(SignlibError, match=re.escape(f"{missing}: pretrained_path: no such folder")):
        build_text_encoder(pretrained(missing))
    with pytest.raises(SignlibError, match="pretrained_path is empty"):
        build_text_encoder(pretrained(""))


@pytest.mark.parametrize("files,match", [
    ([], "no config file"),
    (["config.json"], "no weights file"),
    (["config.json", "model.safetensors"], "no tokenizer file"),
])
def test_pretrained_kind_names_the_missing_files(tmp_path, files, match):
    for name in files:
        (tmp_path / name).write_text("{}")
    with pytest.raises(SignlibError, match=match) as err:
        build_text_encoder(pretrained(tmp_path))
    assert str(tmp_path) in str(err.value)


def test_pretrained_kind_explains_m_clips_wrapper_config(tmp_path):
    for name in ("model.safetensors", "tokenizer.json"):
        (tmp_path / name).write_text("")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "M-CLIP", "modelBase": "xlm-roberta-large"}))
    with pytest.raises(SignlibError, match="xlm-roberta-large's config.json"):
        build_text_encoder(pretrained(tmp_path))


@pytest.mark.skipif(importlib.util.find_spec("transformers") is not None, reason="transformers is installed")
def test_pretrained_kind_without_transformers_says_how_to_install_it(tmp_path):
    for name in ("model.safetensors", "tokenizer.json"):
        (tmp_path / name).write_text("")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "xlm-roberta"}))
    with pytest.raises(SignlibError, match="pip install transformers"):
        build_text_encoder(pretrained(tmp_path))


# ---- pretrained: pooling and projection with a tiny fake backbone ----------------------------------

class FakeTokenizer:
    """Characters → ids ``1..40``, right-padded with 0 (what the HF call returns, in miniature)."""

    def __call__(self, texts, padding=True, truncation=True, return_tensors="pt"):
        rows = [[ord(ch) % 40 + 1 for ch in t] for t in texts]
        n = max(map(len, rows))
        ids = torch.tensor([r + [0] * (n - len(r)) for r in rows])
        return {"input_ids": ids, "attention_mask": (ids != 0).long()}


class FakeBackbone(nn.Module):
    """Embedding + dropout, returning a tuple like an HF model (``[0]`` = last hidden state)."""

    def __init__(self, hidden=12):
        super().__init__()
        self.config = SimpleNamespace(hidden_size=hidden)
        self.emb = nn.Embedding(41, hidden)
        self.drop = nn.Dropout(0.5)

    def forward(self, input_ids, attention_mask):
        return (self.drop(self.emb(input_ids)),)


def fake_encoder(language_token=True, projection=True) -> PretrainedSentenceEncoder:
    torch.manual_seed(0)
    config = TextEncoderConfig(kind="pretrained", d_model=16, language_token=language_token)
    return PretrainedSentenceEncoder(config, backbone=FakeBackbone(), tokenizer=FakeTokenizer(),
                                     projection=nn.Linear(12, 8) if projection else None)


def test_pretrained_sentence_vector_is_the_masked_mean_then_the_m_clip_projection():
    model = fake_encoder()
    texts = ["hi", "hello world"]
    batch = FakeTokenizer()(texts)
    hidden = model.backbone.emb(batch["input_ids"])
    expected = torch.stack([hidden[0, :2].mean(0), hidden[1].mean(0)])
    assert_close(model.sentence_vectors(texts), model.mclip_projection(expected))
    assert_close(model.sentence_vectors(["hi"]), model.sentence_vectors(texts)[:1])  # padding-free
    assert fake_encoder(projection=False).sentence_vectors(texts).shape == (2, 12)


def test_pretrained_tokens_are_language_then_sentence_and_dropped_text_is_the_null_vector():
    model = fake_encoder().train()  # train() must leave the frozen backbone's dropout off
    assert not model.backbone.training
    enc = model(["hi", None, "你好"], ["ASL", "ASL", "CSL"])
    assert enc.tokens.shape == (3, 2, 16) and enc.mask.tolist() == [[True, True], [True, False], [True, True]]
    assert_close(enc.tokens[1, 0], model.null.detach())
    assert_close(enc.pooled, (enc.tokens * enc.mask[..., None]).sum(1) / enc.mask.sum(1, keepdim=True))
    assert_close(enc.tokens[0, 0], model.language.weight[0].detach())
    assert_close(enc.tokens[0, 1], model.proj(model.sentence_vectors(["hi"]))[0].detach())


@pytest.mark.parametrize("language_token", [True, False])
def test_pretrained_language_token_on_tells_languages_apart_and_off_does_not(language_token):
    model = fake_encoder(language_token)
    asl, bsl = model(["thank you"], ["ASL"]), model(["thank you"], ["BSL"])
    assert asl.tokens.shape == (1, 1 + language_token, 16)
    assert torch.allclose(asl.pooled, bsl.pooled) is not language_token
    with pytest.raises(SignlibError, match="LSF"):
        model(["thank you"], ["LSF"])
    with pytest.raises(SignlibError, match="empty"):
        model([""], ["ASL"])


def test_pretrained_trains_only_the_projection_and_checkpoints_only_the_trainable_part():
    model = fake_encoder()
    model(["hi", None], ["DGS", "ASL"]).pooled.sum().backward()
    assert model.proj.weight.grad is not None and model.null.grad is not None
    assert all(p.grad is None and not p.requires_grad
               for p in [*model.backbone.parameters(), *model.mclip_projection.parameters()])
    state = model.state_dict()
    assert set(state) == {"proj.weight", "proj.bias", "language.weight", "null"}
    fresh = fake_encoder()
    with torch.no_grad():
        fresh.proj.weight.zero_()
    fresh.load_state_dict(state)  # strict: the frozen weights are not required in the checkpoint
    assert_close(fresh.proj.weight, model.proj.weight)
    parent = nn.ModuleDict({"text": model})
    assert set(parent.state_dict()) == {f"text.{k}" for k in state}


# ---- pretrained: the real loader on a tiny random XLM-R folder (needs transformers) ----------------

def tiny_xlmr_folder(folder, mclip_layout: bool):
    """A 1-layer XLM-R + word-level tokenizer saved like a Hub folder; ``mclip_layout``: saved the way
    M-CLIP saves it (XLM-R under ``transformer.``, a ``LinearTransformation`` 16 → 8 beside it)."""
    transformers = pytest.importorskip("transformers")
    from safetensors.torch import save_file
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["<s>", "<pad>", "</s>", "<unk>", "hello", "world", "thank", "you", "你好"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                         bos_token="<s>", eos_token="</s>").save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.XLMRobertaConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1,
                                           num_attention_heads=2, intermediate_size=32, max_position_embeddings=40)
    model = transformers.XLMRobertaModel(config).eval()
    projection = nn.Linear(16, 8)
    if mclip_layout:
        config.save_pretrained(folder)
        weights = {f"transformer.{k}": v.contiguous() for k, v in model.state_dict().items()}
        weights.update({f"LinearTransformation.{k}": v for k, v in projection.state_dict().items()})
        save_file(weights, str(folder / "model.safetensors"))
    else:
        model.save_pretrained(folder)
    return model, projection


@pytest.mark.parametrize("mclip_layout", [False, True])
def test_pretrained_loader_reads_a_local_xlmr_folder_and_m_clips_projection(tmp_path, mclip_layout):
    model, projection = tiny_xlmr_folder(tmp_path, mclip_layout)
    encoder = build_text_encoder(pretrained(tmp_path))
    assert (encoder.mclip_projection is not None) == mclip_layout
    ids = torch.tensor([[4, 5, 1], [6, 7, 3]])   # "hello world" + pad, "thank you unk"
    att = torch.tensor([[1, 1, 0], [1, 1, 1]])
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=att).last_hidden_state
        expected = (hidden * att[..., None]).sum(1) / att.sum(1, keepdim=True)
        expected = projection(expected) if mclip_layout else expected
    assert_close(encoder.sentence_vectors(["hello world", "thank you zebra"]), expected)
    enc = encoder(["hello world", None], ["ASL", "BSL"])
    assert enc.tokens.shape == (2, 2, 16) and torch.isfinite(enc.tokens).all()


def test_pretrained_loader_rejects_weights_that_do_not_fit_the_config(tmp_path):
    tiny_xlmr_folder(tmp_path, mclip_layout=False)
    from safetensors.torch import save_file
    save_file({"something.else": torch.zeros(2)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(SignlibError, match=re.escape(f"{tmp_path}: ") + r"\d+ backbone weights missing"):
        build_text_encoder(pretrained(tmp_path))
