"""Shared fixtures: the real-data folder (``<repo>/../shared/realdata``, or ``$SIGNLIB_REALDATA``)."""

import os
from pathlib import Path

import pytest

REALDATA = Path(os.environ.get("SIGNLIB_REALDATA")
                or Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata")


@pytest.fixture(scope="session")
def realdata_dir() -> Path:
    """The real-data folder; tests using it skip when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data not found at {REALDATA} (set SIGNLIB_REALDATA)")
    return REALDATA
