"""Where each stage writes what later stages read: the one place that knows (``dvc.yaml`` lists
the same paths as deps and outs).

:func:`trace_reads` lets the test suite check that claim: with ``SIGNLIB_TRACE_READS`` set, a
stage appends every file it opens for reading to that file, and the pipeline test fails when a
stage read something its ``dvc.yaml`` deps do not cover.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from signlib.config import BaseConfig


#: What later stages read, relative to ``base.build_dir``: attribute of :class:`Paths` → path.
PRODUCTS = {
    "curated": "corpus/curated",            # the curated corpus (stage corpus)
    "dictionary": "corpus/dictionary",      # the isolated-sign dictionary (corpus; absent without one)
    "keyframes": "keyframes/keyframes.json",  # mined keyframes under every policy (stage keyframes)
    "triframe": "keyframes/triframe.npz",   # the tri-frame dictionary (keyframes; absent without a dictionary)
}


@dataclass(frozen=True)
class Paths:
    """Where the stages put their products (all under ``base``'s folders); the attributes of
    :data:`PRODUCTS` (``paths.curated``, ...) plus :meth:`build`, :meth:`results` and :meth:`model`."""

    base: BaseConfig
    curated: Path = field(init=False)
    dictionary: Path = field(init=False)
    keyframes: Path = field(init=False)
    triframe: Path = field(init=False)

    def __post_init__(self):
        for name, rel in PRODUCTS.items():
            object.__setattr__(self, name, Path(self.base.build_dir) / rel)

    def build(self, stage: str) -> Path:
        return Path(self.base.build_dir) / stage

    def results(self, stage: str) -> Path:
        return Path(self.base.results_dir) / stage

    def model(self, stage: str, name: str) -> Path:
        """The model folder ``models/<stage>/<name>`` written by training stage ``stage``."""
        return Path(self.base.models_dir) / stage / name


def trace_reads(stage: str) -> None:
    """With ``$SIGNLIB_TRACE_READS`` set, append ``<stage>\t<absolute path>`` for every file this
    process opens for reading (a ``sys.addaudithook`` hook; there is no way to remove it, so it is
    only ever installed by the test suite's environment)."""
    log = os.environ.get("SIGNLIB_TRACE_READS")
    if not log:
        return
    seen: set[str] = set()
    # the interpreter's own files (modules, byte code, metadata) are not stage inputs
    skip = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix)} | {sys.prefix + os.sep})

    def hook(event: str, args) -> None:
        if event != "open" or not isinstance(args[0], (str, os.PathLike)):
            return
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
        path = os.path.abspath(os.fspath(args[0]))
        if path == log or path in seen or path.startswith(skip) or path.endswith(".pyc") \
                or any(c in mode for c in "wax+"):
            return
        seen.add(path)
        with open(log, "a", encoding="utf-8") as fh:  # re-enters the hook, which skips the log itself
            fh.write(f"{stage}\t{path}\n")

    sys.addaudithook(hook)
