"""``minigrad.cuda``: there is no GPU here; these answer the questions PyTorch programs ask about one.

``cuda.is_available()`` is False, so the common
``device = 'cuda' if torch.cuda.is_available() else 'cpu'`` picks the CPU.
Seeding calls are accepted and do nothing, as in a PyTorch build without CUDA.
"""
from __future__ import annotations

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """False: minigrad runs on the CPU only."""
    return False


def device_count() -> int:
    """0: there are no CUDA devices."""
    return 0


def manual_seed(seed: int) -> None:
    """Do nothing (there is no CUDA generator to seed); use :func:`minigrad.manual_seed`."""


def manual_seed_all(seed: int) -> None:
    """Do nothing (there are no CUDA generators to seed); use :func:`minigrad.manual_seed`."""
