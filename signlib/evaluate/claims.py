"""The paper's claims as checks on measured numbers: does system A beat system B on every metric?

A claim holds only when the better system wins on **every** metric it is judged by (for pose
errors lower is better, for BLEU higher); the evidence string gives each pair of numbers, so a
reader sees by how much, and where a claim fails, which metric failed it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One column a claim is judged by: ``key`` in the summary rows, shown as ``label`` after
    multiplying by ``scale`` (with ``unit``); ``lower_is_better`` for errors, False for BLEU."""

    label: str
    key: str
    scale: float = 1.0
    unit: str = ""
    lower_is_better: bool = True


def pose_metrics(prefix: str = "", procrustes: bool = False) -> list[Metric]:
    """DTW-JPE per step for body and hands, in cm (``prefix`` ``"inner_"`` for the keyframed span),
    and DTW-PA-JPE too with ``procrustes``."""
    out = [Metric(f"DTW-JPE {part}", f"{prefix}{part}_mean", 100.0, "cm") for part in ("body", "hand")]
    if procrustes:
        out += [Metric(f"DTW-PA-JPE {part}", f"pa_{prefix}{part}_mean", 100.0, "cm") for part in ("body", "hand")]
    return out


def compare(better: dict, worse: dict, metrics: list[Metric]) -> tuple[bool, str]:
    """Whether ``better`` beats ``worse`` (two summary rows) on every metric, and the evidence.

    A metric missing from either row, or NaN, makes the claim fail (it cannot be shown)."""
    holds, parts = True, []
    for m in metrics:
        a, b = better.get(m.key, math.nan), worse.get(m.key, math.nan)
        if not (math.isfinite(a) and math.isfinite(b)):
            holds = False
            parts.append(f"{m.label}: not measured")
            continue
        wins = a < b if m.lower_is_better else a > b
        holds &= wins
        unit = f" {m.unit}" if m.unit else ""
        parts.append(f"{m.label} {a * m.scale:.2f} vs {b * m.scale:.2f}{unit}{'' if wins else ' (fails)'}")
    return holds, "; ".join(parts)


def claim_row(claim: str, table: str, better_name: str, worse_name: str, rows: dict[str, dict],
              metrics: list[Metric]) -> dict:
    """A row of the claims table: ``claim``, ``table``, ``holds`` ("yes"/"no") and ``evidence``,
    with ``rows`` = ``{system: summary row}`` (the ``all`` language rows of one table)."""
    holds, evidence = compare(rows[better_name], rows[worse_name], metrics)
    return {"claim": claim, "table": table, "holds": "yes" if holds else "no",
            "evidence": f"{better_name} vs {worse_name}: {evidence}"}


def claim_row_every_language(claim: str, table: str, better_name: str, worse_name: str, summary: list[dict],
                             metrics: list[Metric]) -> dict:
    """Like :func:`claim_row`, judged in each language separately: it holds only if it holds in
    every language of ``summary`` (per-language summary rows; the ``all`` rows are ignored).
    The evidence names each language's verdict and, where it fails, the failing metrics."""
    languages = sorted({r["language"] for r in summary} - {"all"})
    holds, parts = bool(languages), []
    for lang in languages:
        rows = {r["system"]: r for r in summary if r["language"] == lang}
        if better_name not in rows or worse_name not in rows:
            holds = False
            parts.append(f"{lang}: not measured")
            continue
        ok, evidence = compare(rows[better_name], rows[worse_name], metrics)
        holds &= ok
        parts.append(f"{lang}: {'yes' if ok else 'no (' + evidence + ')'}")
    return {"claim": claim, "table": table, "holds": "yes" if holds else "no",
            "evidence": f"{better_name} vs {worse_name}: {'; '.join(parts) or 'no languages'}"}
