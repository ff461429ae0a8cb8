"""Type promotion and argument plumbing shared by the op families.

* :class:`ToDtype` / :func:`to_dtype`: the dtype conversion every promotion is made of;
* :func:`binary`: a two-operand op with PyTorch's type promotion (where NumPy's differs)
  and PyTorch's message for shapes that do not broadcast;
* :func:`to_float`, :func:`floating_only`, :func:`no_bool`: the dtype rules of single-input ops;
* :func:`normalize_dims`, :func:`dim_index`: ``dim`` arguments as axes;
* :func:`torch_dtype_name`: dtypes as PyTorch's error messages spell them.

Nothing here is differentiable math: the ops themselves live in their family modules.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Primitive, function


class ToDtype(Primitive):
    """y = x converted to ``dtype``.   VJP: x̄ = ȳ converted back (the engine casts to x's dtype)."""

    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype, copy=False) if x.dtype != dtype else x

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def to_dtype(input, dtype):
    """``input`` as ``dtype`` (``Tensor.to(dtype)``, ``.float()``, ...); the op is :class:`ToDtype`.

    The same tensor when nothing changes, as PyTorch's ``.to()``; an integer or bool
    result leaves the graph (such tensors cannot require grad).
    """
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input
    if dtype.kind not in "fc":
        return function.Tensor._make(input._array.astype(dtype), False, None)
    return ToDtype.apply(input, dtype)


def data_of(x):
    """The array behind a tensor; anything else unchanged."""
    return x._array if isinstance(x, function.Tensor) else x


def operand(x):
    """Lists become arrays (float32 for Python floats); tensors, arrays and Python numbers pass through."""
    if isinstance(x, (list, tuple)):
        # The tensor module imports the ops at its bottom (the declared tensor <-> ops seam),
        # so its list conversion is reached at call time.
        from minigrad.tensor import _to_array

        return _to_array(x)
    return x


def kind(x, dtype) -> str:
    """The dtype kind of an operand (``'b'``, ``'i'``, ``'f'``, ...), Python numbers included."""
    if dtype is not None:
        return dtype.kind
    return "b" if isinstance(x, bool) else "i" if isinstance(x, int) else "f" if isinstance(x, float) else "?"


def cast(x, dtype):
    """An operand (array, NumPy scalar or tensor) converted to ``dtype``."""
    if isinstance(x, np.ndarray):
        return x.astype(dtype)
    if isinstance(x, np.generic):
        return dtype.type(x)
    return to_dtype(x, dtype)


def promote(a, b, da, db, true_division: bool = False):
    """PyTorch's type promotion where NumPy's differs.

    * integer (or bool) with floating: the floating operand's dtype - or float32 for a
      Python float - where NumPy would give float64;
    * integer / integer with ``true_division``: float32, where NumPy gives float64;
    * a 0-d floating tensor does not widen a dimensioned one (float32 tensor + float64
      0-d tensor stays float32).
    """
    ka, kb = kind(a, da), kind(b, db)
    ints = "biu"
    if ka in ints and kb in ints:
        if true_division:
            f32 = np.dtype(np.float32)
            return (a if da is None else cast(a, f32)), (b if db is None else cast(b, f32))
        return a, b
    if ka == "f" and kb in ints:
        return a, (b if db is None else cast(b, da if da is not None else np.dtype(np.float32)))
    if kb == "f" and ka in ints:
        return (a if da is None else cast(a, db if db is not None else np.dtype(np.float32))), b
    if ka == "f" and kb == "f" and da is not None and db is not None:
        na, nb = np.ndim(data_of(a)), np.ndim(data_of(b))
        if na == 0 and nb > 0:
            return cast(a, db), b
        if nb == 0 and na > 0:
            return a, cast(b, da)
    return a, b


def broadcast_error(*operands) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast (checked from the last dimension)."""
    shapes = [np.shape(data_of(x)) for x in operands]
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    for i in range(ndim - 1, -1, -1):
        sizes = [s[i] for s in padded if s[i] != 1]
        if len(set(sizes)) > 1:
            a, b = sizes[0], next(n for n in sizes if n != sizes[0])
            return RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {i}"
            )
    return RuntimeError(f"shapes {shapes} cannot be broadcast together")


def binary(fn, a, b, true_division: bool = False):
    """``fn.apply(a, b)`` after PyTorch's type promotion (``true_division``: integers give float32)."""
    a, b = operand(a), operand(b)
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da != db or (true_division and da is not None and da.kind in "biu"):
        # A floating tensor with a Python float keeps the tensor's dtype in NumPy too:
        # skip the promotion rules for this common case (x * 0.5).
        if not (db is None and type(b) is float and da is not None and da.kind == "f"):
            a, b = promote(a, b, da, db, true_division)
    try:
        return fn.apply(a, b)
    except ValueError:
        # NumPy's broadcasting error, raised as PyTorch raises it (a try block is free
        # in the common case, so this costs nothing when shapes agree).
        try:
            np.broadcast_shapes(np.shape(data_of(a)), np.shape(data_of(b)))
        except ValueError:
            raise broadcast_error(a, b) from None
        raise


# PyTorch's names of the dtypes, as its error messages spell them.
_TORCH_DTYPE_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
    "float16": "Half", "float32": "Float", "float64": "Double",
}


def torch_dtype_name(dtype) -> str:
    """``'Long'`` for int64, ``'Float'`` for float32, ...: the name in PyTorch's messages."""
    name = np.dtype(dtype).name
    return _TORCH_DTYPE_NAMES.get(name, name)


def to_float(input):
    """An integer or bool tensor as float32 (PyTorch's default dtype), others unchanged.

    Ops whose result is floating for any input (exp, log, sqrt, tanh, sigmoid,
    logsumexp) promote integer inputs this way in PyTorch, instead of computing in
    integers (sigmoid of an int tensor is not a tensor of integer zeros).
    """
    if input.dtype.kind in "biu":
        return to_dtype(input, np.float32)
    return input


def floating_only(name: str, *tensors) -> None:
    """PyTorch has only floating-point kernels for ``name``: integer and bool inputs raise its
    ``NotImplementedError`` ('"softmax" not implemented for 'Long'') instead of computing garbage."""
    for t in tensors:
        if t is not None and t.dtype.kind in "biu":
            raise NotImplementedError(f'"{name}" not implemented for \'{torch_dtype_name(t.dtype)}\'')


def no_bool(input, message: str, error=RuntimeError) -> None:
    """Raise ``error(message)`` for a bool tensor or a Python/NumPy bool."""
    if getattr(input, "dtype", None) == np.bool_ or isinstance(input, (bool, np.bool_)):
        raise error(message)


def normalize_dims(dim, ndim: int) -> tuple:
    """``dim`` (None, int or tuple, negatives allowed) as a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:
        return tuple(range(ndim))  # PyTorch: an empty dim list reduces over every dimension
    out = []
    for d in dims:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})"
            )
        d %= max(ndim, 1)
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    # A 0-d tensor accepts dim 0 / -1 (once) and has nothing to reduce.
    return tuple(sorted(out)) if ndim else ()


def dim_index(dim: int, ndim: int) -> int:
    """One ``dim`` (negatives allowed) as an axis, with PyTorch's range error."""
    return normalize_dims(dim, ndim)[0]
