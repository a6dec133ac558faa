"""Tables as Markdown, CSV and LaTeX from one list of rows, written atomically side by side."""

from __future__ import annotations

import math
import os
from pathlib import Path

from signlib.errors import SignlibError
from signlib.io import csv_text, write_text


def _fmt(value, digits: int) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def to_markdown(rows: list[dict], digits: int = 3) -> str:
    """Rows (dicts with the same keys) → a GitHub Markdown table."""
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(_fmt(r[c], digits) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _tex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
        text = text.replace(a, b) if a != "\\" else text.replace(a, "\0")
    return text.replace("\0", r"\textbackslash{}")


def to_latex(rows: list[dict], caption: str = "", digits: int = 3) -> str:
    """Rows → a booktabs ``tabular`` (numbers right-aligned)."""
    cols = list(rows[0])
    align = "".join("r" if isinstance(rows[0][c], (int, float)) else "l" for c in cols)
    out = [r"\begin{table}[t]", r"\centering", rf"\begin{{tabular}}{{{align}}}", r"\toprule",
           " & ".join(_tex_escape(c) for c in cols) + r" \\", r"\midrule"]
    out += [" & ".join(_tex_escape(_fmt(r[c], digits)) for c in cols) + r" \\" for r in rows]
    out += [r"\bottomrule", r"\end{tabular}"]
    if caption:
        out.append(rf"\caption{{{_tex_escape(caption)}}}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def write_table(rows: list[dict], stem: str | os.PathLike, caption: str = "", digits: int = 3) -> str:
    """Write ``<stem>.md``, ``<stem>.csv`` and ``<stem>.tex``; return the Markdown.

    The caption heads the Markdown file too, so a table read on its own says what it measures.
    """
    if not rows:
        raise SignlibError(f"{stem}: no rows to write")
    keys = list(rows[0])
    for r in rows:
        if list(r) != keys:
            raise SignlibError(f"{stem}: rows have different columns ({list(r)} vs {keys})")
    stem = Path(stem)
    md = to_markdown(rows, digits)
    write_text(stem.with_suffix(".md"), (f"{caption}\n\n" if caption else "") + md)
    write_text(stem.with_suffix(".csv"), csv_text(rows))
    write_text(stem.with_suffix(".tex"), to_latex(rows, caption, digits))
    return md
