"""The interactive notebook's loader finds the workspace from the notebook's folder and says what is
not built yet (the full path, widgets included, runs in tests/test_pipeline.py on the smoke workspace)."""

import os
import shutil
from pathlib import Path

import pytest

from signlib.errors import SignlibError
from signlib.stages.explore import find_params, open_workspace

REPO = Path(__file__).resolve().parents[2]


def test_the_params_file_is_found_from_a_notebook_folder(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "params.yaml").write_text("x: 1\n")
    monkeypatch.chdir(tmp_path / "notebooks")
    assert find_params("params.yaml") == (tmp_path / "params.yaml").resolve()
    with pytest.raises(SignlibError, match="other.yaml: not found in .* or any folder above it"):
        find_params("other.yaml")


def test_an_unbuilt_workspace_names_the_stage_to_run(tmp_path, monkeypatch):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    with pytest.raises(SignlibError, match="no curated corpus; run `dvc repro corpus` first"):
        open_workspace("params.yaml")
    assert Path(os.getcwd()) == tmp_path.resolve()  # relative workspace paths now resolve from the root
