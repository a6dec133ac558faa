"""How a training stage runs: ``python -m signlib.stages.<stage> [--params FILE]``.

Models are trained in stages of their own (``train_fast``, ``train_signspark``, ...), separate from
the notebook stages that score them and write tables and figures. A training stage's code never
reaches a table formatter or a plotting helper, so editing those reruns only the notebooks; and
changing a sampler setting or a decoding threshold never retrains a model, because training stages
list only the parameters they read.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from signlib.config import Params, load_params
from signlib.reproducible import configure
from signlib.stages.paths import trace_reads


def run_main(stage: str, main: Callable[[Params], object], argv: list[str] | None = None) -> int:
    """Parse ``--params``, load and check it, seed torch with ``base.seed``, fix
    the thread count (:func:`signlib.reproducible.configure`) and run ``main(params)``."""
    parser = argparse.ArgumentParser(prog=f"python -m signlib.stages.{stage}")
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    args = parser.parse_args(argv)
    trace_reads(stage)
    params = load_params(args.params)
    configure(params.base.seed, params.base.threads)
    print(f"stage {stage}: profile={params.base.profile} seed={params.base.seed} device={params.base.device}",
          file=sys.stderr)
    main(params)
    return 0
