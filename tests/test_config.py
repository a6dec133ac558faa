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


def test_yaml_1_1_reads_exponents_without_a_dot_as_strings():
    # Why signlib accepts float literals in strings: PyYAML's float needs a dot and a signed exponent.
    assert yaml.safe_load("lr: 1e-3\nx: 1.0e3\ny: 1.0e-3") == {"lr": "1e-3", "x": "1.0e3", "y": 0.001}


@pytest.mark.parametrize("text, value", [("1e-3", 1e-3), ("5E-4", 5e-4), ("1.0e3", 1000.0), ("2", 2.0),
                                         ("+.5e-2", 0.005)])
def test_a_float_field_takes_a_float_literal_yaml_left_as_a_string(tmp_path, text, value):
    params = _load_with(tmp_path, "signspark.train.lr", text)
    assert params.signspark.train.lr == pytest.approx(value) and isinstance(params.signspark.train.lr, float)


def test_an_unquoted_1e_minus_3_in_the_file_loads_as_a_number(tmp_path):
    lines = (REPO / "params.yaml").read_text().splitlines()
    section = lines.index("signspark:")
    at = next(i for i in range(section, len(lines)) if lines[i].strip().startswith("lr:"))
    lines[at] = lines[at].split("lr:")[0] + "lr: 1e-3"
    path = tmp_path / "params.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert load_params(path).signspark.train.lr == 0.001


def test_float_literals_in_a_list_of_numbers(tmp_path):
    params = _load_with(tmp_path, "evaluate.guidance.text_scales", ["1e0", 1.5])
    assert params.evaluate.guidance.text_scales == (1.0, 1.5)


@pytest.mark.parametrize("dotted, value, message", [
    ("signspark.train.lr", "nan", r"signspark\.train\.lr: expected float \(a number\), got 'nan'"),
    ("signspark.train.lr", "1e-3x", r"expected float \(a number\), got '1e-3x'"),
    ("signspark.train.lr", float("inf"), r"signspark\.train\.lr: inf must be a number"),
    ("base.seed", 2.5, r"base\.seed: expected int \(a whole number\), got 2\.5$"),
    ("base.seed", 3.0, r"base\.seed: expected int \(a whole number\), got 3\.0; write 3$"),
    ("base.seed", "1e3", r"base\.seed: expected int \(a whole number\), got '1e3'; write 1000$"),
    ("base.seed", True, r"base\.seed: expected int"),
    ("evaluate.realdata", "yes",
     r"evaluate\.realdata: expected bool \(true or false\), got 'yes'; write true or false"),
    ("evaluate.realdata", 1, r"evaluate\.realdata: expected bool"),
    ("signspark.sampler.steps", "8", r"signspark\.sampler\.steps: expected int .*; write 8$"),
])
def test_numbers_and_flags_of_the_wrong_kind(tmp_path, dotted, value, message):
    with pytest.raises(SignlibError, match=message) as info:
        _load_with(tmp_path, dotted, value)
    assert "\n" not in str(info.value)


def test_unquoted_yes_is_yaml_1_1_true():
    raw = _raw()
    raw["evaluate"]["realdata"] = yaml.safe_load("v: yes")["v"]
    assert parse_section("evaluate", raw["evaluate"]).realdata is True


NOT_UTF8 = r"not valid YAML \(UnicodeDecodeError\)"


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"# only a comment\n", "is empty"),
    (b"- base\n- corpus\n", "must hold a mapping"),                # a top-level list
    (b"base: {seed: 0}\nname: caf\xe9\n", NOT_UTF8),                 # Latin-1
    (b"\xff\xfeb\x00a\x00", NOT_UTF8),                                # UTF-16
])
def test_a_params_file_that_is_not_a_utf8_yaml_mapping_names_the_file(tmp_path, content, message):
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    with pytest.raises(SignlibError, match=rf"p\.yaml: {message}") as info:
        load_params(path)
    assert "\n" not in str(info.value)


def test_a_folder_is_not_a_params_file(tmp_path):
    with pytest.raises(SignlibError, match=rf"^{tmp_path}: is a folder"):
        load_params(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(SignlibError, match="file/params.yaml: cannot be read"):
        load_params(tmp_path / "file" / "params.yaml")


def test_unknown_and_missing_keys_in_a_nested_section():
    good = {"batch_size": 4, "lr": 0.1, "weight_decay": 0, "ema_decay": 0.5}
    with pytest.raises(SignlibError, match=r"params: unknown key x\.momentum; known keys: batch_size, lr"):
        parse(OptimConfig, {**good, "momentum": 0.9}, "x")
    with pytest.raises(SignlibError, match=r"params: missing key x\.ema_decay$"):
        parse(OptimConfig, {k: v for k, v in good.items() if k != "ema_decay"}, "x")
    with pytest.raises(SignlibError, match=r"params: x: expected a mapping, got list"):
        parse(OptimConfig, [good], "x")
