"""``minigrad.linalg``: PyTorch's ``torch.linalg`` names that minigrad provides (norms).

The functions live with the other products in :mod:`minigrad.ops.linalg`."""
from __future__ import annotations

from minigrad.ops import linalg as _linalg
from minigrad.ops._spellings import numpy_spellings

# PyTorch's linalg functions are written in C++: they accept NumPy's axis= and keepdims= too.
norm = numpy_spellings(_linalg.linalg_norm)
vector_norm = numpy_spellings(_linalg.vector_norm)

__all__ = ["norm", "vector_norm"]
