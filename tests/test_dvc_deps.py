"""``dvc.yaml`` dependencies cannot go stale: every signlib file a stage reaches through imports
(its notebook's, or its module's, transitively, lazy imports included) is a dep, and no signlib
dep covers files the stage never reaches (an edit there would rerun it, and retrain, for nothing)."""

import shutil
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent / "helpers"))

from imports import REPO, command_files, dep_violations, stage_deps  # noqa: E402

DVC, PARAMS = REPO / "dvc.yaml", REPO / "params.yaml"


def test_every_stage_depends_on_exactly_the_code_it_reaches():
    assert dep_violations(DVC, PARAMS) == []


def test_the_check_catches_a_removed_dependency(tmp_path):
    raw = yaml.safe_load(DVC.read_text())
    raw["stages"]["train_fast"]["deps"].remove("signlib/segment")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(raw))
    problems = dep_violations(tmp_path / "dvc.yaml", PARAMS)
    assert len(problems) == 1 and problems[0].startswith("train_fast: deps miss ")
    assert "signlib/segment/" in problems[0]


def test_the_check_catches_a_dependency_the_stage_never_reaches(tmp_path):
    raw = yaml.safe_load(DVC.read_text())
    raw["stages"]["train_fast"]["deps"].append("signlib/evaluate/tables.py")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(raw))
    assert dep_violations(tmp_path / "dvc.yaml", PARAMS) == [
        "train_fast: dep signlib/evaluate/tables.py covers files the stage never reaches"]


def test_the_check_follows_an_import_a_module_gains(tmp_path):
    # a copy of the package in which FAST's network starts using the table writer
    shutil.copytree(REPO / "signlib", tmp_path / "signlib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    fast = tmp_path / "signlib" / "segment" / "fast.py"
    fast.write_text(fast.read_text() + "\nfrom signlib.evaluate.tables import write_table  # noqa\n")
    problems = dep_violations(DVC, PARAMS, root=tmp_path)
    assert any(p.startswith("train_fast: deps miss") and "signlib/evaluate" in p for p in problems)


def test_training_stages_never_reach_a_table_formatter_or_a_plot():
    for name, (cmd, _) in stage_deps(DVC, PARAMS).items():
        if name.startswith("train_"):
            reached = {p.relative_to(REPO).as_posix() for p in command_files(cmd)}
            assert not {"signlib/evaluate/tables.py", "signlib/stages/common.py"} & reached, name
            assert not any(f.startswith("signlib/render/") for f in reached), name


def test_stages_that_read_the_real_samples_depend_on_their_manifest():
    for name, (cmd, deps) in stage_deps(DVC, PARAMS).items():
        if REPO / "signlib" / "data" / "realdata.py" in command_files(cmd):
            assert "realdata.json" in deps, name
