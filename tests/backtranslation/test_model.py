"""The back-translation config and network: one-line config errors, fields the data decides, the
output's independence from padding, and the standardisation of its input."""

import dataclasses

import pytest
import torch

from signlib.backtranslation.configs import BackTranslationConfig
from signlib.backtranslation.model import PoseToText
from signlib.errors import SignlibError
from signlib.text.words import TextVocab
from signlib.validate import InvalidValue, is_from_data

from .conftest import TEXTS, TINY, random_model


def test_config_takes_its_dim_from_the_layout_and_marks_layout_and_length_as_from_data():
    assert BackTranslationConfig(layout="rot6d").dim == 240
    assert BackTranslationConfig(layout="rot6d_spine3").dim == 246
    from_data = {f.name for f in dataclasses.fields(BackTranslationConfig) if is_from_data(f)}
    assert from_data == {"layout", "max_frames"}


@pytest.mark.parametrize("changes,key,message", [
    (dict(d_model=130, heads=4), "heads", "heads=4 must divide d_model=130"),
    (dict(downsample=0), "downsample", "downsample=0 must be an integer >= 1"),
    (dict(max_frames=2.5), "max_frames", "max_frames=2.5 must be an integer >= 1"),
    (dict(dropout=1.0), "dropout", r"dropout=1.0 must be a number in \[0, 1\)"),
    (dict(ctc_weight=-1), "ctc_weight", r"ctc_weight=-1 must be a number in \[0, inf\]"),
    (dict(tie_embeddings=1), "tie_embeddings", "tie_embeddings=1 must be true or false"),
])
def test_bad_config_values_are_one_line_errors_naming_the_field(changes, key, message):
    with pytest.raises(InvalidValue, match=f"^BackTranslationConfig: {message}$") as err:
        BackTranslationConfig(**changes)
    assert isinstance(err.value, SignlibError) and err.value.key == key


def test_unknown_layout_is_an_error_naming_the_known_ones():
    with pytest.raises(SignlibError, match="unknown layout 'nope'; known layouts: .*rot6d"):
        BackTranslationConfig(layout="nope")


def test_a_gloss_ctc_head_needs_a_gloss_vocabulary():
    vocab = TextVocab.build(t for t, _ in TEXTS)
    with pytest.raises(SignlibError, match="ctc_weight > 0 needs a gloss vocabulary"):
        PoseToText(dataclasses.replace(TINY, ctc_weight=0.5), vocab)
    plain = PoseToText(dataclasses.replace(TINY, ctc_weight=0.0), vocab)
    assert plain.glosses is None and plain.gloss_head is None
    with pytest.raises(SignlibError, match="has no gloss head"):
        plain(torch.zeros(1, 8, 240), torch.ones(1, 8, dtype=torch.bool), torch.tensor([[4]]), with_glosses=True)


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


def test_too_long_inputs_are_errors_naming_the_limit():
    model = random_model()
    with pytest.raises(SignlibError, match="65 frames, over max_frames=64"):
        model.encode(torch.zeros(1, 65, 240), torch.ones(1, 65, dtype=torch.bool))
    memory, memory_mask = model.encode(torch.zeros(1, 8, 240), torch.ones(1, 8, dtype=torch.bool))
    with pytest.raises(SignlibError, match="17 decoder inputs, over max_tokens=16"):
        model.decode(memory, memory_mask, torch.full((1, 17), 4))


def test_statistics_floor_std_at_a_tenth_of_the_median_channel_and_standardise_the_input():
    model = random_model()
    std = torch.full((240,), 2.0)
    std[:10] = 0.01                                     # barely moving channels (locked finger joints)
    mean = torch.arange(240.0)
    model.set_statistics(mean, std)
    torch.testing.assert_close(model.std[:10], torch.full((10,), 0.2))   # 0.1 × median 2.0
    torch.testing.assert_close(model.std[10:], std[10:])
    x = mean + 2.0 * torch.randn(3, 240)
    torch.testing.assert_close(model.normalise(x)[:, 10:], ((x - mean) / 2.0)[:, 10:])
    torch.testing.assert_close(model.denormalise(model.normalise(x)), x)
    assert {"mean", "std"} <= set(model.state_dict())   # saved with the weights
