"""The package's shape, read from the code with ``ast``: imports go one way (DESIGN §6).

Layers, lowest first, are ``tests/helpers/imports.py``'s ``LAYERS``: errors → validate, io,
profiles, reproducible → layers, pose, text, optim, checkpoint → data, train → keyframes → triframe, segment, render → generate →
baselines, backtranslation → evaluate, widgets → config → stages → notebook. Model packages never
import ``config``, ``stages`` or ``train``: stages decide what they train on and call the loop.
"""

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "helpers"))

from imports import LAYERS, REPO, all_modules, layer_violations, top  # noqa: E402


def test_every_package_has_a_layer():
    units = {top(m) for m in all_modules()} - {""}
    assert units <= {u for layer in LAYERS for u in layer}, units - {u for layer in LAYERS for u in layer}


def test_imports_follow_the_layers():
    assert layer_violations() == []


def _copy(tmp_path) -> Path:
    shutil.copytree(REPO / "signlib", tmp_path / "signlib", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_check_catches_an_upward_import(tmp_path):
    root = _copy(tmp_path)
    layout = root / "signlib" / "pose" / "layout.py"
    layout.write_text(layout.read_text() + "\n\ndef _late():\n    from signlib.stages.common import open_stage\n")
    assert layer_violations(root) == ["signlib.pose.layout (layer 2) imports signlib.stages (layer 10)",
                                      "signlib.pose.layout (layer 2) imports signlib.stages.common (layer 10)"]


def test_the_check_catches_a_model_package_reaching_for_the_training_loop(tmp_path):
    root = _copy(tmp_path)
    unet = root / "signlib" / "generate" / "unet.py"
    unet.write_text(unet.read_text() + "\nfrom signlib.train import TrainConfig  # noqa\n")
    assert layer_violations(root) == ["signlib.generate.unet (a model package) imports signlib.train"]


def test_the_check_catches_a_sideways_import_between_sibling_packages(tmp_path):
    root = _copy(tmp_path)
    model = root / "signlib" / "backtranslation" / "model.py"
    model.write_text(model.read_text() + "\nimport signlib.baselines.slerp  # noqa\n")
    assert layer_violations(root) == [
        "signlib.backtranslation.model (layer 7) imports signlib.baselines (layer 7)",
        "signlib.backtranslation.model (layer 7) imports signlib.baselines.slerp (layer 7)"]
