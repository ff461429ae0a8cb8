"""minigrad's random number generator (one NumPy ``Generator``, reseeded by ``manual_seed``)."""
from __future__ import annotations

import numpy as np

# Created on first use: importing numpy.random costs ~10 ms, a seventh of `import minigrad`.
_state = {"gen": None}


def manual_seed(seed: int) -> np.random.Generator:
    """Seed minigrad's generator (used by ``rand``, ``randn``, init and dropout)."""
    _state["gen"] = np.random.default_rng(int(seed))
    return _state["gen"]


def _generator() -> np.random.Generator:
    if _state["gen"] is None:
        _state["gen"] = np.random.default_rng()
    return _state["gen"]
