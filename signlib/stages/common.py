"""What every stage shares: opening it, where each stage's products live, and writing its results.

A notebook stage starts with ``stage = open_stage("fast", params_path, interactive)`` (parameters,
seed, folders) in place of a setup block, and writes through the :class:`Stage` it gets:
:meth:`Stage.table` (Markdown + CSV + LaTeX), :meth:`Stage.figure` (PNG), :meth:`Stage.plot_data`
(JSON rows for ``dvc plots``) and :meth:`Stage.write_metrics` (``metrics.json``, nested by table or
figure so ``dvc metrics show`` stays readable). Training stages do not come here: they write no
tables, so editing a table formatter never retrains a model (:mod:`signlib.stages.training`).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from signlib.config import Params, load_params
from signlib.io import write_json
from signlib.reproducible import configure
from signlib.stages.paths import Paths, trace_reads


@dataclass(frozen=True)
class Stage:
    """An open stage: its parameters, folders and writers (see the module docstring)."""

    name: str
    params: Params
    interactive: bool

    @property
    def paths(self) -> Paths:
        return Paths(self.params.base)

    @property
    def results(self) -> Path:
        return self.paths.results(self.name)

    def table(self, rows: list[dict], stem: str, caption: str, **kwargs):
        """Write ``tables/<stem>.{md,csv,tex}`` and return the Markdown for display; ``kwargs`` go
        to :func:`signlib.evaluate.tables.write_table` (``digits``, ``csv_rows``)."""
        from IPython.display import Markdown

        from signlib.evaluate.tables import write_table

        return Markdown(write_table(rows, self.results / "tables" / stem, caption=caption, **kwargs))

    def figure(self, fig, name: str, dpi: int = 110):
        """Save ``fig`` as ``figures/<name>.png``, close it, and return the image for display."""
        import matplotlib.pyplot as plt
        from IPython.display import Image

        path = self.results / "figures" / f"{name}.png"
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        return Image(filename=str(path))

    def plot_data(self, name: str, rows: list[dict]) -> Path:
        """Write ``plots/<name>.json`` (rows for ``dvc plots``)."""
        path = self.results / "plots" / f"{name}.json"
        write_json(path, rows)
        return path

    def write_metrics(self, metrics: dict) -> dict:
        """Write ``metrics.json`` (NaN and infinity become null: JSON has no such numbers)."""
        clean = _finite(metrics)
        write_json(self.results / "metrics.json", clean)
        return clean


def _finite(value):
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return _finite(value.item())
    return value


def open_stage(name: str, params_path: str | os.PathLike = "params.yaml", interactive: bool = True,
               folders=("figures", "tables")) -> Stage:
    """Load ``params.yaml``, seed torch and fix the thread count (:mod:`signlib.reproducible`),
    create ``results/<name>/<folders>`` and
    print one line saying what runs."""
    trace_reads(name)
    params = load_params(params_path)
    configure(params.base.seed, params.base.threads)
    stage = Stage(name, params, interactive)
    for sub in folders:
        (stage.results / sub).mkdir(parents=True, exist_ok=True)
    print(f"stage {name}: profile={params.base.profile} seed={params.base.seed} device={params.base.device} "
          f"input={params.base.data_dir}")
    return stage


def slug(name: str, keep_parenthesis: bool = False) -> str:
    """A metrics key from a display name: ``"SignSparK SR-T2P (retrieved keyframes)"`` →
    ``"signspark_sr_t2p"`` (with ``keep_parenthesis``: ``"signspark_sr_t2p_retrieved_keyframes"``)."""
    text = name if keep_parenthesis else name.split(" (")[0]
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
