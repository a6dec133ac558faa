"""signlib: a reproducible workspace for sparse-keyframe sign language production.

Subpackages import one way, top to bottom (DESIGN §6):
``config`` → ``pose`` → ``data`` → ``segment`` → ``keyframes`` → ``generate`` → ``evaluate``
→ ``render`` → ``widgets`` → ``train``. Importing ``signlib`` has no side effects.
"""

from signlib.errors import SignlibError

__all__ = ["SignlibError"]
__version__ = "0.1.0"
