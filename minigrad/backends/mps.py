"""``minigrad.backends.mps``: Apple's Metal back end, which minigrad does not have."""
from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: minigrad runs on the CPU only."""
    return False


def is_built() -> bool:
    """False: minigrad has no MPS support."""
    return False
