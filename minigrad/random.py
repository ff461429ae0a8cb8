"""minigrad's random number generator (one NumPy ``Generator``, reseeded by ``manual_seed``)."""
from __future__ import annotations

import numpy as np

_state = {"gen": np.random.default_rng()}


def manual_seed(seed: int) -> np.random.Generator:
    """Seed minigrad's generator (used by ``rand``, ``randn``, init and dropout)."""
    _state["gen"] = np.random.default_rng(int(seed))
    return _state["gen"]


def _generator() -> np.random.Generator:
    return _state["gen"]
