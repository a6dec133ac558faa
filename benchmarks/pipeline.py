"""Pipeline wall time per stage: ``dvc repro`` one stage at a time, in ``dvc.yaml`` order.

Usage: ``python benchmarks/pipeline.py [--force] [--out benchmarks/results/pipeline.json]``

Stages in ``dvc.yaml`` are written in an order where every stage comes after the stages it
depends on, so reproducing them one by one (``dvc repro --single-item``) rebuilds the same
pipeline as ``dvc repro`` while timing each stage. Each timing includes DVC's own overhead of a
few seconds (reading the lock file, hashing outputs). ``--force`` reruns stages even when DVC
considers them up to date; without it a stage that is up to date takes only that overhead.
Writes the per-stage seconds, their sum, and the machine, and prints minutes per stage.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import yaml

from signlib.io import write_json

ROOT = Path(__file__).resolve().parent.parent


def stages(dvc_yaml: Path = ROOT / "dvc.yaml", params_yaml: Path = ROOT / "params.yaml") -> list[str]:
    """Stage names in file order; a ``foreach`` stage over a params mapping (``${section.key}``)
    becomes one ``name@item`` per entry, as ``dvc repro`` names them."""
    params = yaml.safe_load(params_yaml.read_text())
    out = []
    for name, spec in yaml.safe_load(dvc_yaml.read_text())["stages"].items():
        if "foreach" not in spec:
            out.append(name)
            continue
        node = params
        for part in spec["foreach"].strip("${}").split("."):
            node = node[part]
        out += [f"{name}@{item}" for item in node]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rerun every stage even when up to date")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "pipeline.json"))
    args = parser.parse_args()
    dvc = str(Path(sys.executable).with_name("dvc"))
    rows = []
    for name in stages():
        cmd = [dvc, "repro", "--single-item", *(["--force"] if args.force else []), name]
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, env={**os.environ, "DVC_NO_ANALYTICS": "1"})
        seconds = time.perf_counter() - start
        rows.append({"stage": name, "seconds": round(seconds, 1)})
        print(f"{name:24s} {seconds / 60:6.2f} min", flush=True)
    total = sum(r["seconds"] for r in rows)
    print(f"{'total':24s} {total / 60:6.2f} min")
    write_json(args.out, {"stages": rows, "total_seconds": round(total, 1), "cpus": os.cpu_count(),
                          "machine": platform.platform(), "python": platform.python_version()})


if __name__ == "__main__":
    main()
