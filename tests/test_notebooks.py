"""The stage notebooks are thin (DESIGN §5, §10): a tagged parameters cell that papermill overrides,
then calls into ``signlib.stages``, figures, tables and markdown. No notebook defines a function,
a class or a lambda, and none writes a file itself (the stage layer owns every format)."""

import ast
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: Every notebook a user opens: the stages', the interactive one and the workshop's. None defines code.
ALL_NOTEBOOKS = sorted(p for p in (REPO / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
#: Calls that would make a notebook own a file format.
WRITERS = {"open", "write_json", "write_text", "write_bytes", "write_npz", "write_table", "savefig", "dump",
           "save", "savez", "savez_compressed", "write_segments", "write_eaf", "write_clip", "write_corpus"}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _code(path: Path) -> ast.Module:
    return ast.parse("\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code"))


def test_there_is_a_notebook_per_notebook_stage():
    assert [p.stem for p in NOTEBOOKS] == ["01_curate_poses", "02_train_fast", "03_mine_keyframes",
                                          "04_train_signspark", "05_evaluate", "06_ablations", "07_render",
                                          "08_report"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_parameters_cell_comes_first_and_holds_paths_and_flags_only(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    assert code[0]["metadata"].get("tags") == ["parameters"]
    names = {t.id for node in ast.parse("".join(code[0]["source"])).body for t in node.targets}
    assert names == {"params_path", "interactive"}


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.stem)
def test_no_notebook_defines_a_function_class_or_lambda(path):
    defined = [type(n).__name__ for n in ast.walk(_code(path))
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))]
    assert defined == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_notebook_writes_a_file_itself(path):
    calls = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
             for n in ast.walk(_code(path)) if isinstance(n, ast.Call)}
    assert calls & WRITERS == set()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_opens_its_stage_and_writes_its_metrics(path):
    source = ast.unparse(_code(path))
    assert "open_stage(" in source and "stage.write_metrics(" in source
    assert all("id" in c for c in _cells(path))  # nbformat 5: cells carry ids



def test_the_interactive_notebook_starts_with_its_parameters():
    """``explore.ipynb`` is no stage, but papermill and users override it the same way."""
    code = [c for c in _cells(REPO / "notebooks" / "explore.ipynb") if c["cell_type"] == "code"]
    assert code[0]["metadata"].get("tags") == ["parameters"]
