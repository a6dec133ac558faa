"""The one exception type users see.

Every reader, writer and config loader turns a failure inside a library (numpy, pose-format,
pympi, pickle, yaml) into a :class:`SignlibError` whose message is a single line that names the
file or key and says what is wrong, so a notebook shows one sentence instead of a deep traceback.
"""

from __future__ import annotations

import os


class SignlibError(ValueError):
    """A user-facing error: one line, naming the file, argument or key at fault."""

    def __init__(self, message: str):
        # One line, always: multi-line library messages are folded so tables of errors stay readable.
        super().__init__(" ".join(str(message).split()))


def file_error(path: str | os.PathLike, what: str) -> SignlibError:
    """``SignlibError`` of the form ``"<path>: <what>"``."""
    return SignlibError(f"{os.fspath(path)}: {what}")
