"""Matrix products."""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Primitive


class MatMul(Primitive):
    """y = a @ b (batched, broadcasting over leading dims; 1-D operands as in NumPy).

    VJP: ā = ȳ @ bᵀ,  b̄ = aᵀ @ ȳ, with the 1-D cases handled by temporarily
    promoting vectors to matrices, and broadcast batch dims summed by the engine.
    """

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError("both arguments to matmul need to be at least 1D")
        ctx.save_for_backward(a, b)
        try:
            return np.matmul(a, b)
        except ValueError:
            sa, sb = ("x".join(map(str, x.shape)) for x in (a, b))
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})") from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # a dot product: ȳ is a scalar
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if need_a:
            ga = np.matmul(g, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = np.reshape(ga, ga.shape[:-2] + (a.shape[0],))
        if need_b:
            gb = np.matmul(np.swapaxes(a2, -1, -2), g)
            if b.ndim == 1:
                gb = np.reshape(gb, gb.shape[:-2] + (b.shape[0],))
        return ga, gb
