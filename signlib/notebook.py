"""Run a stage notebook with papermill: ``python -m signlib.notebook NOTEBOOK OUT_DIR``.

What every notebook stage of ``dvc.yaml`` calls. It creates ``OUT_DIR`` (DVC deletes a stage's
outputs before running it), passes only ``params_path`` (sizes and settings live in
``params.yaml``) and ``interactive=False`` (so widget cells also leave static figures) to the
notebook, writes the executed notebook to ``OUT_DIR/<notebook name>``, and on a failing cell
prints the one-line error of that cell instead of papermill's traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run(notebook: str, out_dir: str, params_path: str = "params.yaml", kernel: str = "python3") -> Path:
    """Execute ``notebook`` into ``out_dir``; return the executed notebook's path."""
    import papermill

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / Path(notebook).name
    # interactive=False: widgets have no frontend here, so explorers also emit static figures.
    papermill.execute_notebook(notebook, str(target), parameters={"params_path": params_path, "interactive": False},
                               kernel_name=kernel, progress_bar=False, log_output=False)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m signlib.notebook", description=__doc__.splitlines()[0])
    parser.add_argument("notebook")
    parser.add_argument("out_dir")
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    args = parser.parse_args(argv)
    from papermill.exceptions import PapermillExecutionError

    try:
        target = run(args.notebook, args.out_dir, args.params)
    except PapermillExecutionError as err:
        print(f"{args.notebook}: cell {err.exec_count} failed: {err.ename}: {err.evalue} "
              f"(executed notebook kept in {Path(args.out_dir) / Path(args.notebook).name})", file=sys.stderr)
        return 1
    print(f"{args.notebook} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
