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
    # After the escapes above, which would otherwise escape the maths these introduce.
    return text.replace("\0", r"\textbackslash{}").replace("±", r"$\pm$").replace("–", "--")


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


def _check_rows(rows: list[dict], stem) -> None:
    if not rows:
        raise SignlibError(f"{stem}: no rows to write")
    keys = list(rows[0])
    for r in rows:
        if list(r) != keys:
            raise SignlibError(f"{stem}: rows have different columns ({list(r)} vs {keys})")


def write_table(rows: list[dict], stem: str | os.PathLike, caption: str = "", digits: int = 3,
                csv_rows: list[dict] | None = None) -> str:
    """Write ``<stem>.md``, ``<stem>.csv`` and ``<stem>.tex``; return the Markdown.

    The caption heads the Markdown file too, so a table read on its own says what it measures.
    ``csv_rows`` replaces ``rows`` in the CSV (e.g. separate numeric mean and std columns where
    the Markdown and LaTeX show ``mean ± std`` text; see :func:`mean_std_table`).
    """
    _check_rows(rows, stem)
    if csv_rows is not None:
        _check_rows(csv_rows, stem)
    stem = Path(stem)
    md = to_markdown(rows, digits)
    write_text(stem.with_suffix(".md"), (f"{caption}\n\n" if caption else "") + md)
    write_text(stem.with_suffix(".csv"), csv_text(rows if csv_rows is None else csv_rows))
    write_text(stem.with_suffix(".tex"), to_latex(rows, caption, digits))
    return md


def mean_std_table(summary: list[dict], columns: dict[str, tuple[str, float]], keep=("language", "system", "clips"),
                   digits: int = 2) -> tuple[list[dict], list[dict]]:
    """Display and numeric rows from :func:`signlib.evaluate.production.summarize_rows` output.

    Args:
        summary: rows with ``<key>`` (mean) and ``<key>_std`` columns.
        columns: ``{column label: (key, scale)}``; the label should name the unit, e.g.
            ``"DTW-JPE body, per step (cm)": ("body_mean", 100)``. A row without ``key`` shows "–".
        keep: columns copied as they are (those present in the rows).
    Returns:
        ``(display, numeric)``: display cells read ``"mean ± std"`` (with ``"(n excl.)"`` when
        ``n`` clips had no comparable frames); numeric rows hold ``label``
        and ``label + " std"`` as floats (NaN where missing), for CSV.
    """
    display, numeric = [], []
    for row in summary:
        d = {k: row[k] for k in keep if k in row}
        n = dict(d)
        for label, (key, scale) in columns.items():
            if key in row:
                mean, std = row[key] * scale, row.get(f"{key}_std", math.nan) * scale
                d[label] = f"{mean:.{digits}f} ± {std:.{digits}f}"
                if row.get(f"{key}_excluded"):  # clips with nothing comparable (missing-data rule)
                    d[label] += f" ({row[f'{key}_excluded']} excl.)"
            else:
                mean = std = math.nan
                d[label] = "–"
            n[label], n[f"{label} std"] = mean, std
        display.append(d)
        numeric.append(n)
    return display, numeric
