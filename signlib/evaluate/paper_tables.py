"""The paper's evaluation tables (1b stitching, 2 text-to-pose, 3 keyframe-to-pose) from score rows.

Every pose-error column says its unit and which DTW number it is: ``cm/step`` is the per-step mean
(the accumulated cost divided by the DTW path length, in centimetres), ``m, path total`` the
accumulated cost along the path in metres (what published tables report; it grows with sequence
length, so it also rewards short outputs). Errors are mean ± std over test sequences.
Back-translation BLEU-4 is a corpus score per language (no std); ``BLEU drop (%)`` is relative to
back-translating the ground truth, as the paper reports it.
"""

from __future__ import annotations

import math

from signlib.evaluate.bleu import relative_drop
from signlib.evaluate.production import summarize_rows
from signlib.evaluate.tables import mean_std_table

DTW = {"DTW-JPE body (cm/step)": ("body_mean", 100.0), "DTW-JPE hand (cm/step)": ("hand_mean", 100.0),
       "DTW-JPE body (m, path total)": ("body_total", 1.0), "DTW-JPE hand (m, path total)": ("hand_total", 1.0)}
DTW_PA = {"DTW-PA-JPE body (cm/step)": ("pa_body_mean", 100.0), "DTW-PA-JPE hand (cm/step)": ("pa_hand_mean", 100.0),
          "DTW-PA-JPE body (m, path total)": ("pa_body_total", 1.0),
          "DTW-PA-JPE hand (m, path total)": ("pa_hand_total", 1.0)}
INNER = {"keyframed span: DTW-JPE body (cm/step)": ("inner_body_mean", 100.0),
         "keyframed span: DTW-JPE hand (cm/step)": ("inner_hand_mean", 100.0)}
MPJPE = {"MPJPE body (cm)": ("mpjpe_body", 100.0), "MPJPE hand (cm)": ("mpjpe_hand", 100.0),
         "PA-MPJPE body (cm)": ("pa_mpjpe_body", 100.0), "PA-MPJPE hand (cm)": ("pa_mpjpe_hand", 100.0),
         "PCK@5cm body (%)": ("pck_body", 100.0), "PCK@5cm hand (%)": ("pck_hand", 100.0)}

TABLE_1B = {**DTW}
TABLE_2 = {**DTW_PA, **DTW}
TABLE_3 = {**DTW, **INNER, **MPJPE}


def summary_keys(columns: dict[str, tuple[str, float]]) -> tuple[str, ...]:
    return tuple(key for key, _ in columns.values())


def add_bleu(summary: list[dict], bleu: dict[str, list[dict]], reference: str | None) -> list[dict]:
    """``summary`` rows (per language × system) with ``bleu4`` and, given the ``reference``
    system's name (ground truth), ``bleu4_drop`` (percent below it) added.

    ``bleu`` maps a system name to :func:`signlib.evaluate.bleu.bleu_rows` output; a system
    without back-translation gets NaN."""
    lookup = {(name, r["language"]): r["bleu4"] for name, rows in bleu.items() for r in rows}
    out = []
    for row in summary:
        score = lookup.get((row["system"], row["language"]), math.nan)
        upper = lookup.get((reference, row["language"]), math.nan) if reference else math.nan
        out.append({**row, "bleu4": score, "bleu4_drop": relative_drop(score, upper) if reference else math.nan})
    return out


def paper_table(score_rows: list[dict], columns: dict[str, tuple[str, float]],
                bleu: dict[str, list[dict]] | None = None, reference: str | None = None,
                by_language: bool = True) -> tuple[list[dict], list[dict], list[dict]]:
    """``(display rows, numeric rows, summary)`` of one table.

    Args:
        score_rows: per-clip rows of :func:`signlib.evaluate.production.score_outputs`.
        columns: ``{label: (summary key, scale)}``, e.g. :data:`TABLE_2`.
        bleu: optional back-translation rows per system (adds ``B-T BLEU-4`` and, with
            ``reference``, ``BLEU drop (%)``).
        by_language: one row per language and system plus ``all``; else ``all`` only.
    """
    summary = summarize_rows(score_rows, summary_keys(columns), by_language=by_language)
    if bleu is not None:
        summary = add_bleu(summary, bleu, reference)
    display, numeric = mean_std_table(summary, columns)
    if bleu is not None:
        for d, n, s in zip(display, numeric, summary):
            n["B-T BLEU-4"], d["B-T BLEU-4"] = s["bleu4"], _num(s["bleu4"])
            if reference:
                n["BLEU drop (%)"], d["BLEU drop (%)"] = s["bleu4_drop"], _num(s["bleu4_drop"], 1)
    return display, numeric, summary


def _num(x: float, digits: int = 2) -> str:
    return "–" if not math.isfinite(x) else f"{x:.{digits}f}"


def overall(summary: list[dict]) -> dict[str, dict]:
    """``{system: its "all languages" summary row}``."""
    return {r["system"]: r for r in summary if r["language"] == "all"}
