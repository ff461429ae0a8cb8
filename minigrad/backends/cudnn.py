"""``minigrad.backends.cudnn``: flags programs set for reproducibility; they change nothing here.

``minigrad.backends.cudnn.deterministic = True`` and ``benchmark = False``
are accepted as in PyTorch and have no effect: there is no cuDNN.
"""
from __future__ import annotations

__all__ = ["is_available", "deterministic", "benchmark", "enabled"]

deterministic = False
benchmark = False
enabled = True


def is_available() -> bool:
    """False: there is no cuDNN here."""
    return False
