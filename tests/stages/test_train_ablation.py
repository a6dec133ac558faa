"""Ablation variants: params.yaml with the shared budget and the variant's overrides applied, every
value checked as params.yaml is, and mistakes named."""

from pathlib import Path

import pytest
import yaml

from signlib.errors import SignlibError
from signlib.stages.train_ablation import model_folder, seeds, variant_params

REPO = Path(__file__).resolve().parents[2]


def _params_with(tmp_path, **variants):
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["ablations"]["variants"].update(variants)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_variant_sees_the_common_budget_its_overrides_and_its_seed():
    params = variant_params(REPO / "params.yaml", "loss_vel", 1)
    assert params.base.seed == 1
    assert params.signspark.loss.cfm_weight == 0.0 and params.signspark.loss.recon_weight == 0.0
    assert params.signspark.loss.velocity_weight == 1.0
    assert params.signspark.model.unet.channels == (32, 64, 96) and params.signspark.train.batch_size == 16
    ddpm = variant_params(REPO / "params.yaml", "ddpm", 0)
    assert ddpm.signspark.model.generator == "ddpm" and ddpm.signspark.loss.cfm_weight == 2.0
    assert seeds(params) == list(range(params.sizes.ablation_seeds)) and len(seeds(params)) >= 2
    assert model_folder(params, "ddpm", 1).as_posix().endswith("ablations/ddpm/seed1")


def test_unknown_variants_and_bad_overrides_are_named(tmp_path):
    with pytest.raises(SignlibError, match="'nope' is not in ablations.variants"):
        variant_params(REPO / "params.yaml", "nope", 0)
    path = _params_with(tmp_path, typo={"overrides": {"signspark.loss.cfm_wieght": 1.0}, "languages": []},
                        bad={"overrides": {"signspark.model.generator": "gan"}, "languages": []},
                        loop={"overrides": {"ablations.clips": 2}, "languages": []})
    with pytest.raises(SignlibError, match="unknown key signspark.loss.cfm_wieght"):
        variant_params(path, "typo", 0)
    with pytest.raises(SignlibError, match="signspark.model.generator"):
        variant_params(path, "bad", 0)
    with pytest.raises(SignlibError, match="ablations.variants.loop.overrides: ablations.clips cannot change"):
        variant_params(path, "loop", 0)


def test_the_ablations_section_is_checked_when_params_load(tmp_path):
    path = _params_with(tmp_path, broken={"overrides": {"no_dot": 1}, "languages": []})
    with pytest.raises(SignlibError, match="ablations.variants.broken.overrides"):
        variant_params(path, "broken", 0)
    path = _params_with(tmp_path, broken={"overrides": {}, "languages": "ASL"})
    with pytest.raises(SignlibError, match="ablations.variants.broken.languages: expected a list of strings"):
        variant_params(path, "broken", 0)
