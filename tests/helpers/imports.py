"""The import graph of signlib, read with ``ast`` (nothing is imported): which files a module, a
notebook or a DVC stage command reaches. Used by the architecture and DVC-dependency tests."""

from __future__ import annotations

import ast
import json
import shlex
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def module_file(name: str, root: Path = REPO) -> Path | None:
    """The file of module ``name`` (``signlib.a.b`` → ``signlib/a/b.py`` or ``signlib/a/b/__init__.py``)."""
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_names(tree: ast.AST, package: str = "") -> set[str]:
    """Every absolute module name a tree imports (at any depth: lazy imports inside functions
    count), including ``a.b.c`` for ``from a.b import c`` (callers keep the names that are modules)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the importing package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(p for p in [*parts, base] if p)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


@lru_cache(maxsize=None)
def direct_imports(name: str, root: Path = REPO) -> frozenset[str]:
    """The signlib modules module ``name`` imports directly (package ``__init__`` files included)."""
    path = module_file(name, root)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return frozenset(_signlib_modules(imported_names(tree, package), root))


def _signlib_modules(names, root: Path) -> set[str]:
    out = set()
    for name in names:
        if name == "signlib" or name.startswith("signlib."):
            out.update(p for p in _parents(name) if module_file(p, root) is not None)
    return out


def closure(names, root: Path = REPO) -> set[str]:
    """Every signlib module reached from ``names`` by imports, transitively."""
    seen, todo = set(), list(_signlib_modules(names, root))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(direct_imports(name, root) - seen)
    return seen


def notebook_imports(path: Path) -> set[str]:
    """Module names the code cells of a notebook import (lines starting with ``%`` or ``!`` skipped)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    return imported_names(ast.parse(code, str(path)))


def package_data(modules, root: Path = REPO) -> set[Path]:
    """Data files (not ``.py``) beside the reached modules: what those modules read at run time
    (e.g. ``signlib/data/synthetic/vocabulary.tsv``)."""
    folders = {module_file(m, root).parent for m in modules}
    return {p for folder in folders for p in folder.iterdir()
            if p.is_file() and p.suffix not in (".py", ".pyc") and folder.name != "__pycache__"}


def command_files(cmd: str, root: Path = REPO) -> set[Path]:
    """The signlib files (modules and their package data) a stage command reaches: the ``-m``
    module it runs, and for the notebook runner the notebook's own imports."""
    args = shlex.split(cmd)
    names = set()
    if "-m" in args:
        module = args[args.index("-m") + 1]
        names.add(module)
        if module == "signlib.notebook":
            names |= notebook_imports(root / args[args.index("-m") + 2])
    modules = closure(names, root)
    return {module_file(m, root) for m in modules} | package_data(modules, root)


def source_files(folder: Path) -> set[Path]:
    """Every file under ``folder`` that counts as code or package data (no caches)."""
    return {p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def compact(files: set[Path], root: Path = REPO) -> list[str]:
    """``files`` as the shortest list of repository paths: a folder stands for its files when every
    one of them is in ``files`` (the tightest ``dvc.yaml`` deps that cover exactly these files)."""
    out, done = [], set()
    for path in sorted(files, key=lambda p: (len(p.parts), p)):
        if path in done:
            continue
        top = path
        for parent in path.relative_to(root).parents:
            folder = root / parent
            if parent == Path(".") or folder == root / "signlib":
                break
            if source_files(folder) <= files:
                top = folder
        covered = source_files(top) if top.is_dir() else {top}
        done |= covered
        out.append(top.relative_to(root).as_posix())
    return sorted(set(out))


# -------------------------------------------------------------- the architecture rules (DESIGN §6)

#: signlib's top-level modules and packages, lowest layer first. A module may import its own
#: package and anything in a lower layer; never a higher layer, nor another package of its own layer.
LAYERS = (
    ("errors",),
    ("validate", "io", "profiles", "reproducible"),
    ("layers", "pose", "text", "optim", "checkpoint"),
    ("data", "train"),
    ("keyframes",),
    ("triframe", "segment", "render"),
    ("generate",),
    ("baselines", "backtranslation"),
    ("evaluate", "widgets"),
    ("config",),
    ("stages",),
    ("tutorial",),
    ("notebook",),
)
#: Model packages stay pure: they take their own config dataclass and expose the model and its
#: loss; which data, how many steps and where is stage code (so they never import these).
MODEL_PACKAGES = ("segment", "generate", "baselines", "backtranslation", "evaluate")
STAGE_ONLY = ("config", "stages", "train")


def top(name: str) -> str:
    """``signlib.generate.unet`` → ``generate``; ``signlib`` → ``""``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(unit: str) -> int:
    for k, units in enumerate(LAYERS):
        if unit in units:
            return k
    raise KeyError(f"signlib.{unit} is in no layer of LAYERS: add it")


def all_modules(root: Path = REPO) -> list[str]:
    return sorted(".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
                  for p in (root / "signlib").rglob("*.py") if "__pycache__" not in p.parts)


def layer_violations(root: Path = REPO) -> list[str]:
    """Every import that breaks the layer order or the model-package rule, one line each."""
    out = []
    for name in all_modules(root):
        here = top(name)
        if not here:
            continue
        for dep in sorted(direct_imports(name, root)):
            there = top(dep)
            if not there or there == here:
                continue
            if layer_of(there) >= layer_of(here):
                out.append(f"{name} (layer {layer_of(here)}) imports {dep} (layer {layer_of(there)})")
            elif here in MODEL_PACKAGES and there in STAGE_ONLY:
                out.append(f"{name} (a model package) imports {dep}")
    return out


# -------------------------------------------------------------- dvc.yaml dependencies

def resolve(text: str, base: dict) -> str:
    """``${base.key}`` templates of ``dvc.yaml`` filled from ``params.yaml``'s ``base``."""
    for key, value in base.items():
        text = text.replace("${base.%s}" % key, str(value))
    return text


def stage_deps(dvc_yaml: Path, params_yaml: Path) -> dict[str, tuple[str, list[str]]]:
    """``{stage: (command, deps)}`` of a ``dvc.yaml``, templates resolved."""
    import yaml

    base = yaml.safe_load(params_yaml.read_text())["base"]
    stages = yaml.safe_load(dvc_yaml.read_text())["stages"]
    stages = {name: s.get("do", s) for name, s in stages.items()}  # a foreach stage: its template
    return {name: (resolve(s["cmd"], base), [resolve(d, base) for d in s.get("deps", [])])
            for name, s in stages.items()}


def dep_violations(dvc_yaml: Path, params_yaml: Path, root: Path = REPO) -> list[str]:
    """Files a stage's command reaches that its deps do not cover, and signlib deps that cover
    files the stage never reaches (edits there would rerun it for nothing)."""
    out = []
    for name, (cmd, deps) in stage_deps(dvc_yaml, params_yaml).items():
        reached = command_files(cmd, root)
        covers = [root / d for d in deps]
        missing = [f for f in reached if not any(f == c or c in f.parents for c in covers)]
        if missing:
            out.append(f"{name}: deps miss {len(missing)} reached files, e.g. {missing[0].relative_to(root)}; "
                       f"the tight list is {compact(reached, root)}")
        for dep in covers:
            if dep.relative_to(root).parts[0] != "signlib":
                continue
            files = source_files(dep) if dep.is_dir() else {dep}
            if not files or not files <= reached:
                out.append(f"{name}: dep {dep.relative_to(root)} covers files the stage never reaches")
    return out
