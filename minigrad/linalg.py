"""``minigrad.linalg``: PyTorch's ``torch.linalg`` names that minigrad provides (norms).

The functions live with the other products in :mod:`minigrad.ops.linalg`."""
from __future__ import annotations

from minigrad.ops.linalg import linalg_norm as norm
from minigrad.ops.linalg import vector_norm

__all__ = ["norm", "vector_norm"]
