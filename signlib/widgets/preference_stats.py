"""The preference study's statistics: who won each comparison, with exact binomial intervals.

:func:`summary` turns answers (as :func:`signlib.widgets.preference.read_answers` gives them) into a
:class:`Summary`: per comparison "method vs X" the number of answers, the method's wins, its
preference rate and a Clopper–Pearson interval (:func:`clopper_pearson`), and per rater the
attention checks passed; raters who failed one are left out of the comparisons and counted.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterable

from signlib.errors import SignlibError

ORDER = ("truth", "SLERP", "naive stitching", "SignSparK T2P")  # the paper's columns; others follow, sorted


def opponent(left: str, right: str, method: str) -> str:
    return right if left == method else left  # the system the method is compared with


def ordered(systems: Iterable[str]) -> list[str]:
    systems = set(systems)
    return [s for s in ORDER if s in systems] + sorted(systems - set(ORDER))


def clopper_pearson(wins: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for ``wins`` of ``n``: the p at which each binomial tail at ``wins``
    is (1 - level) / 2, i.e. the Beta quantiles B⁻¹(α/2; k, n-k+1) and B⁻¹(1-α/2; k+1, n-k), with
    0 at k = 0 and 1 at k = n (where that Beta is degenerate). n = 0 gives (0, 1)."""
    from scipy.stats import beta

    if not 0 <= wins <= n:
        raise SignlibError(f"wins must lie in 0..n, got wins={wins}, n={n}")
    alpha = 1.0 - level
    low = 0.0 if wins == 0 else float(beta.ppf(alpha / 2, wins, n - wins + 1))
    high = 1.0 if wins == n else float(beta.ppf(1 - alpha / 2, wins + 1, n - wins))
    return low, high


@dataclasses.dataclass(frozen=True)
class Summary:
    """The study's tables. ``comparisons``, per compared system in the paper's order: ``comparison``
    ("method vs X"), ``versus``, ``n``, ``wins`` (method chosen), ``rate`` (NaN at n = 0),
    ``ci_low``/``ci_high`` (exact interval), ``excluded`` (answers left out because their rater
    failed an attention check). ``raters``: ``rater``, ``checks``, ``passed``, ``pass_rate`` (NaN
    without checks), ``answers`` (comparisons), ``excluded``. ``excluded_raters``: their names."""

    method: str
    comparisons: tuple[dict, ...]
    raters: tuple[dict, ...]
    excluded_raters: tuple[str, ...]


def summary(answers: Iterable[dict], method: str, level: float = 0.95) -> Summary:
    """Preference for ``method`` per comparison, from answers as :func:`read_answers` gives them.
    A rater who fails any attention check is left out of every comparison row (each row counts the
    answers so excluded) but stays in ``raters`` with the pass rate."""
    answers = list(answers)
    raters: dict[str, dict] = {}
    for a in answers:
        row = raters.setdefault(a["rater"], {"rater": a["rater"], "checks": 0, "passed": 0, "answers": 0})
        row["checks" if a["kind"] == "attention" else "answers"] += 1
        row["passed"] += a["kind"] == "attention" and a["choice"] == a.get("expected")
    for row in raters.values():
        row["pass_rate"] = row["passed"] / row["checks"] if row["checks"] else math.nan
        row["excluded"] = row["passed"] < row["checks"]
    counts: dict[str, list[int]] = {}  # versus -> [n, wins, excluded]
    for a in (a for a in answers if a["kind"] == "comparison"):
        if method not in (a["left"], a["right"]):
            raise SignlibError(f"method {method!r} is on neither side of {a['rater']}'s answer to trial "
                               f"{a['index']} ({a['left']} vs {a['right']})")
        count = counts.setdefault(opponent(a["left"], a["right"], method), [0, 0, 0])
        if raters[a["rater"]]["excluded"]:
            count[2] += 1
        else:
            count[0] += 1
            count[1] += (a["left"] if a["choice"] == "left" else a["right"]) == method
    rows = []
    for versus in ordered(counts):
        n, wins, excluded = counts[versus]
        low, high = clopper_pearson(wins, n, level)
        rows.append({"comparison": f"{method} vs {versus}", "versus": versus, "n": n, "wins": wins,
                     "rate": wins / n if n else math.nan, "ci_low": low, "ci_high": high, "excluded": excluded})
    by_name = tuple(raters[name] for name in sorted(raters))
    return Summary(method, tuple(rows), by_name, tuple(r["rater"] for r in by_name if r["excluded"]))
