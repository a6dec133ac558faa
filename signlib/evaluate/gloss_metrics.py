"""Text-to-gloss quality: exact sentence match and gloss error rate (edit distance per reference gloss)."""

from __future__ import annotations

import numpy as np


def edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two token lists (one row of the table at a time)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def gloss_scores(predicted: list[list[str]], reference: list[list[str]], languages: list[str]) -> list[dict]:
    """Per language (and ``all``): sentences, exact-match rate and gloss error rate (edit
    distance summed over sentences / reference glosses summed)."""
    rows = []
    for lang in sorted(set(languages)) + ["all"]:
        sel = [k for k, l in enumerate(languages) if lang in ("all", l)]
        errors = sum(edit_distance(predicted[k], reference[k]) for k in sel)
        rows.append({"language": lang, "sentences": len(sel),
                     "exact match": float(np.mean([predicted[k] == reference[k] for k in sel])),
                     "gloss error rate": errors / max(1, sum(len(reference[k]) for k in sel))})
    return rows
