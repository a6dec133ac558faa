"""Every key of ``params.yaml`` is read by something: no setting that changes nothing.

For each leaf key, the field of the config dataclass it lands in must be read as an attribute
(``<expr>.<field>``) somewhere in signlib outside that dataclass's ``__post_init__`` (its checks
do not count) and outside ``signlib/config.py`` (which only builds the dataclasses). Read statically with
``ast``, so a setting read by no code path fails here before a run silently ignores it.
"""

import ast
import dataclasses
import typing
from pathlib import Path

import pytest
import yaml

from signlib.config import Params

REPO = Path(__file__).resolve().parents[1]


def _leaves(raw: dict, cls: type, path: str = ""):
    """``(dotted key, owning dataclass, field name)`` of every leaf of ``raw`` parsed as ``cls``."""
    hints = typing.get_type_hints(cls)
    for key, value in raw.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            yield from _leaves(value, hint, f"{path}{key}.")
        else:
            yield f"{path}{key}", cls, key


def _attribute_reads() -> dict[str, list[tuple[str, int, int]]]:
    """``{attribute name: [(file, line, column)]}`` of every ``x.name`` read in signlib."""
    out: dict[str, list] = {}
    for path in (REPO / "signlib").rglob("*.py"):
        if path.name == "config.py" and path.parent.name == "signlib":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                out.setdefault(node.attr, []).append((str(path), node.lineno, node.col_offset))
    return out


def _checks_span(cls: type) -> tuple[str, int, int] | None:
    """File and line span of ``cls.__post_init__`` (None when it has none)."""
    import inspect

    check = cls.__dict__.get("__post_init__")
    if check is None:
        return None
    lines, start = inspect.getsourcelines(check)
    return str(Path(inspect.getsourcefile(check)).resolve()), start, start + len(lines) - 1


def readers(cls: type, field: str, reads: dict) -> list[tuple[str, int]]:
    """Where ``field`` of ``cls`` is read, its own checks left out."""
    span = _checks_span(cls)
    return [(f, line) for f, line, _ in reads.get(field, [])
            if span is None or not (str(Path(f).resolve()) == span[0] and span[1] <= line <= span[2])]


READS = _attribute_reads()
LEAVES = list(_leaves(yaml.safe_load((REPO / "params.yaml").read_text()), Params))


@pytest.mark.parametrize("dotted,cls,field", LEAVES, ids=[leaf[0] for leaf in LEAVES])
def test_every_params_key_is_read_by_code(dotted, cls, field):
    assert readers(cls, field, READS), f"params.yaml key {dotted} ({cls.__name__}.{field}) is read by nothing"


def test_a_field_only_its_own_checks_read_counts_as_unread():
    from signlib.generate.configs import UNetConfig

    # UNetConfig's check reads self.heads; the UNet reads it too. With the UNet's read gone, only
    # the check's would be left, and that must not count.
    span = _checks_span(UNetConfig)
    in_checks = [(f, line, c) for f, line, c in READS["heads"]
                 if str(Path(f).resolve()) == span[0] and span[1] <= line <= span[2]]
    assert in_checks and readers(UNetConfig, "heads", READS)
    assert readers(UNetConfig, "heads", {"heads": in_checks}) == []
