"""``Parameter``: a tensor that a Module registers as trainable."""
from __future__ import annotations

import numpy as np

from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered by ``Module.__setattr__``.

    The data is shared with the array or tensor it is made from, as in PyTorch.
    """

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        arr = data._array if isinstance(data, Tensor) else np.asarray(data)
        if arr.dtype == np.float64 and not isinstance(data, (np.ndarray, Tensor)):
            arr = arr.astype(np.float32)
        super().__init__(arr, requires_grad=False)
        self._array = arr  # share, don't copy
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
