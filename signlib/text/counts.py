"""Whole-number arguments of the text-reading generators: lengths, steps, batch sizes, seeds.

Every generator entry point (:mod:`signlib.generate.modes`, text-to-gloss, the baselines,
back-translation) checks its counts with :func:`count`, so ``num_frames=12.5`` is an error rather
than 12 frames (``int()`` truncates silently), and ``True`` is not a batch size. It lives beside the
text checks because every model package that reads text already depends on :mod:`signlib.text`,
while none of them imports another.
"""

from __future__ import annotations

import numbers

import torch

from signlib.errors import SignlibError


def _whole(value) -> int | None:
    """``value`` as an ``int`` when it is an integer type (bool excluded), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):  # int and numpy's integer types (np.int64 registers)
        return int(value)
    if isinstance(value, torch.Tensor) and value.dim() == 0 and value.dtype != torch.bool \
            and not value.is_floating_point() and not value.is_complex():
        return int(value)  # e.g. one entry of predict_length's int64 tensor
    return None


def count(value, where: str, low: int | None = 1, high: int | None = None, note: str = "") -> int:
    """``value`` as a Python ``int`` if it is a whole number in ``[low, high]`` (either bound may be None).

    Accepted: ``int``, numpy integers and 0-d integer tensors. Refused, each with a one-line error
    starting with ``where`` (the argument, e.g. ``"t2p: num_frames[1]"``): floats, even integral
    ones (a float length is a bug upstream, and ``int()`` would truncate 12.5 to 12), ``bool``,
    strings and anything else, and values outside the bounds (``note`` is appended, e.g.
    ``" (the trained maximum)"``)."""
    n = _whole(value)
    if n is None:
        raise SignlibError(f"{where}: must be an integer, got {value!r:.40} ({type(value).__name__})")
    if (low is not None and n < low) or (high is not None and n > high):
        if high is None:
            raise SignlibError(f"{where}={n} must be >= {low}{note}")
        if low is None:
            raise SignlibError(f"{where}={n} must be <= {high}{note}")
        raise SignlibError(f"{where}={n} is outside [{low}, {high}]{note}")
    return n
