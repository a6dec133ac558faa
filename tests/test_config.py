"""params.yaml → nested frozen dataclasses: strict keys, types and values, each error naming its key."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from signlib.config import PROFILES, SECTIONS, Params, load_params, parse, parse_section, set_key
from signlib.errors import SignlibError
from signlib.generate.configs import SamplerConfig, SignSparKConfig, UNetConfig
from signlib.train import OptimConfig

REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path, raw) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _raw():
    return yaml.safe_load((REPO / "params.yaml").read_text())


def _load_with(tmp_path, dotted: str, value):
    raw = _raw()
    set_key(raw, dotted, value)
    return load_params(_write(tmp_path, raw))


def test_repository_params_load_into_frozen_nested_dataclasses():
    params = load_params(REPO / "params.yaml")
    assert params.base.profile in PROFILES
    assert isinstance(params.signspark.model, SignSparKConfig) and isinstance(params.signspark.model.unet, UNetConfig)
    assert isinstance(params.signspark.sampler, SamplerConfig)
    assert isinstance(params.evaluate.regression.train, OptimConfig)
    assert params.signspark.model.unet.channels == (64, 128, 192)  # YAML list → the dataclass's tuple
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.base.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profile_picks_its_sizes(tmp_path, profile):
    assert _load_with(tmp_path, "base.profile", profile).sizes == PROFILES[profile]


def test_smoke_profile_is_smaller_than_default():
    assert PROFILES["smoke"].max_frames <= PROFILES["default"].max_frames
    assert 0 < PROFILES["smoke"].max_clips
    assert PROFILES["smoke"].signspark_steps < PROFILES["default"].signspark_steps


@pytest.mark.parametrize("dotted", ["base.sed", "corpus.fill_gaps", "signspark.model.unet.width",
                                    "evaluate.regression.train.momentum"])
def test_unknown_key_names_its_full_path(tmp_path, dotted):
    with pytest.raises(SignlibError, match=rf"unknown key {dotted.replace('.', '[.]')}") as info:
        _load_with(tmp_path, dotted, 1)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("dotted", ["base.seed", "fast.decode.b_threshold", "signspark.model.text.kind",
                                    "evaluate.backtranslation.model.downsample"])
def test_missing_key_names_its_full_path(tmp_path, dotted):
    raw = _raw()
    *parents, key = dotted.split(".")
    node = raw
    for part in parents:
        node = node[part]
    del node[key]
    with pytest.raises(SignlibError, match=rf"missing key {dotted.replace('.', '[.]')}"):
        load_params(_write(tmp_path, raw))


def test_fields_set_from_the_data_are_not_params(tmp_path):
    with pytest.raises(SignlibError, match="signspark.model.layout: is set from the data"):
        _load_with(tmp_path, "signspark.model.layout", "rot6d")


def test_unknown_section_and_missing_section(tmp_path):
    raw = _raw()
    raw["corpuss"] = {}
    with pytest.raises(SignlibError, match="unknown section 'corpuss'"):
        load_params(_write(tmp_path, raw))
    raw = _raw()
    del raw["corpus"]
    with pytest.raises(SignlibError, match="missing section 'corpus'"):
        load_params(_write(tmp_path, raw))


@pytest.mark.parametrize("dotted,value,message", [
    ("base.seed", "zero", r"base\.seed: expected int"),
    ("base.seed", True, r"base\.seed: expected int"),
    ("fast.train.lr", "fast", r"fast\.train\.lr: expected float"),
    ("signspark.model.unet.channels", [64, "x"], r"signspark\.model\.unet\.channels: expected a list of integers"),
    ("signspark.model.keyframe_track", 1, r"signspark\.model\.keyframe_track: expected bool"),
])
def test_wrong_types_are_one_line_errors_naming_the_key(tmp_path, dotted, value, message):
    with pytest.raises(SignlibError, match=message) as info:
        _load_with(tmp_path, dotted, value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("dotted,value", [
    ("base.profile", "huge"),                        # unknown profile
    ("base.device", "tpu"),
    ("keyframes.policy", "every_frame"),             # unknown policy
    ("signspark.sampler.solver", "rk4"),             # unknown solver
    ("signspark.model.text.kind", "bert"),           # unknown encoder
    ("fast.decode.convention", "splits"),
    ("signspark.keyframe_source", "guessed"),
    ("signspark.model.unet.heads", 0),               # non-positive sizes
    ("signspark.model.unet.channels", [64, 4]),
    ("signspark.text2gloss.model.d_model", -8),
    ("evaluate.backtranslation.model.downsample", 0),
    ("evaluate.regression.model.layers", 0),
    ("fast.model.ff", 0),
    ("fast.bilstm.hidden", 0),
    ("signspark.train.batch_size", 0),
    ("signspark.train.lr", 0.0),
    ("signspark.data.text_drop", 1.5),               # out-of-range fractions and scales
    ("keyframes.mask_p", 1.0),
    ("signspark.sampler.steps", 0),
    ("evaluate.speed_bins", 1),
    ("corpus.fill_gap_frames", -1),
])
def test_invalid_values_are_one_line_errors_naming_the_key(tmp_path, dotted, value):
    with pytest.raises(SignlibError, match=rf"^params: {dotted.replace('.', '[.]')}: ") as info:
        _load_with(tmp_path, dotted, value)
    shown = repr(tuple(value)) if isinstance(value, list) else repr(value)  # lists become the config's tuples
    assert "\n" not in str(info.value) and shown in str(info.value)


def test_a_check_across_fields_names_the_section(tmp_path):
    raw = _raw()
    raw["corpus"]["val_signer_fraction"] = raw["corpus"]["test_signer_fraction"] = 0.5
    with pytest.raises(SignlibError, match=r"params: corpus\.test_signer_fraction: .*no training signers"):
        load_params(_write(tmp_path, raw))


def test_overrides_reach_nested_dataclasses():
    params = load_params(REPO / "params.yaml", base__profile="smoke", signspark__sampler__steps=4,
                         evaluate__regression__model__text__layers=1)
    assert params.base.profile == "smoke" and params.signspark.sampler.steps == 4
    assert params.evaluate.regression.model.text.layers == 1


def test_int_is_accepted_where_float_is_expected():
    section = parse_section("corpus", {"fill_gap_frames": 3, "val_signer_fraction": 0, "test_signer_fraction": 0.2})
    assert isinstance(section.val_signer_fraction, float)


def test_every_section_of_params_is_a_field_of_params():
    assert list(SECTIONS) == [f.name for f in dataclasses.fields(Params)] == list(_raw())


def test_parse_builds_any_config_dataclass():
    assert parse(OptimConfig, {"batch_size": 4, "lr": 0.1, "weight_decay": 0, "ema_decay": 0.5}, "x") == \
        OptimConfig(4, 0.1, 0.0, 0.5)


def test_missing_or_broken_params_file(tmp_path):
    with pytest.raises(SignlibError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: [unclosed")
    with pytest.raises(SignlibError, match="bad.yaml: not valid YAML"):
        load_params(bad)
