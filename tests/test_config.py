"""params.yaml → frozen dataclasses: strict keys, profiles, one-line errors."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from signlib.config import PROFILES, load_params, parse_section
from signlib.errors import SignlibError

REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path, raw) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _raw():
    return yaml.safe_load((REPO / "params.yaml").read_text())


def test_repository_params_load_into_frozen_dataclasses():
    params = load_params(REPO / "params.yaml")
    assert params.base.profile in PROFILES
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.base.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profile_picks_its_sizes(tmp_path, profile):
    raw = _raw()
    raw["base"]["profile"] = profile
    assert load_params(_write(tmp_path, raw)).sizes == PROFILES[profile]


def test_smoke_profile_is_smaller_than_default():
    assert PROFILES["smoke"].max_frames <= PROFILES["default"].max_frames
    assert 0 < PROFILES["smoke"].max_clips


@pytest.mark.parametrize("section,key", [("base", "sed"), ("corpus", "fill_gaps")])
def test_unknown_key_names_section_and_key(tmp_path, section, key):
    raw = _raw()
    raw[section][key] = 1
    with pytest.raises(SignlibError, match=rf"unknown key {section}\.{key}"):
        load_params(_write(tmp_path, raw))


@pytest.mark.parametrize("section,key", [("base", "seed"), ("corpus", "layout")])
def test_missing_key_names_section_and_key(tmp_path, section, key):
    raw = _raw()
    del raw[section][key]
    with pytest.raises(SignlibError, match=rf"missing key {section}\.{key}"):
        load_params(_write(tmp_path, raw))


def test_unknown_section_and_missing_section(tmp_path):
    raw = _raw()
    raw["corpuss"] = {}
    with pytest.raises(SignlibError, match="unknown section 'corpuss'"):
        load_params(_write(tmp_path, raw))
    raw = _raw()
    del raw["corpus"]
    with pytest.raises(SignlibError, match="missing section 'corpus'"):
        load_params(_write(tmp_path, raw))


@pytest.mark.parametrize("key,value,message", [
    ("seed", "zero", "base.seed: expected int"),
    ("seed", True, "base.seed: expected int"),
    ("profile", "huge", "base.profile"),
    ("device", "tpu", "base.device"),
])
def test_bad_values_are_one_line_errors(tmp_path, key, value, message):
    raw = _raw()
    raw["base"][key] = value
    with pytest.raises(SignlibError, match=message) as info:
        load_params(_write(tmp_path, raw))
    assert "\n" not in str(info.value)


def test_overrides_reach_the_dataclass():
    params = load_params(REPO / "params.yaml", base__profile="smoke", corpus__fill_gap_frames=2)
    assert params.base.profile == "smoke" and params.corpus.fill_gap_frames == 2


def test_int_is_accepted_where_float_is_expected():
    section = parse_section("corpus", {"layout": "rot6d", "fill_gap_frames": 3, "val_signer_fraction": 0,
                                       "test_signer_fraction": 0.2})
    assert isinstance(section.val_signer_fraction, float)


def test_fractions_that_leave_no_training_signers_are_rejected():
    with pytest.raises(SignlibError, match="no training signers"):
        parse_section("corpus", {"layout": "rot6d", "fill_gap_frames": 3, "val_signer_fraction": 0.5,
                                 "test_signer_fraction": 0.5})


def test_missing_or_broken_params_file(tmp_path):
    with pytest.raises(SignlibError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: [unclosed")
    with pytest.raises(SignlibError, match="bad.yaml: not valid YAML"):
        load_params(bad)
