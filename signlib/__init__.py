"""signlib: a reproducible workspace for sparse-keyframe sign language production.

Imports go one way, from the lowest layer up (DESIGN §6): ``errors`` → ``validate``, ``io``,
``profiles`` → ``layers``, ``pose``, ``text``, ``optim``, ``checkpoint`` → ``data``, ``train`` →
``keyframes`` → ``triframe``, ``segment``, ``render`` → ``generate`` → ``baselines``,
``backtranslation`` → ``evaluate``, ``widgets`` → ``config`` → ``stages`` → ``notebook``. The
model packages never import ``config``, ``stages`` or ``train``. Importing ``signlib`` has no side
effects.
"""

from signlib.errors import SignlibError

__all__ = ["SignlibError"]
__version__ = "0.1.0"
