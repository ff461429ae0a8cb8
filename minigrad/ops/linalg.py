"""Matrix products: :class:`MatMul` and, beside it, :func:`matmul`."""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Primitive
from minigrad.ops._promotion import no_bool, operand


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


# C++'s names of the dtypes, as PyTorch's matmul messages spell them.
_C_TYPE_NAMES = {
    "float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int", "int32": "int",
    "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
}


def matmul(input, other):
    """Matrix product with NumPy/PyTorch broadcasting of batch dimensions (:class:`MatMul`).

    The operands must have one dtype (PyTorch does not promote in matmul).

    Parameters
    ----------
    input, other : Tensor

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.matmul(minigrad.eye(2), minigrad.tensor([[1.0], [2.0]]))
    tensor([[1.],
            [2.]])
    """
    a, b = operand(input), operand(other)
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da is not None and db is not None:
        no_bool(a, "\"addmm_impl_cpu_\" not implemented for 'Bool'", NotImplementedError)
        no_bool(b, "\"addmm_impl_cpu_\" not implemented for 'Bool'", NotImplementedError)
        if da != db:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{_C_TYPE_NAMES.get(da.name, da.name)} != {_C_TYPE_NAMES.get(db.name, db.name)}")
    return MatMul.apply(a, b)
