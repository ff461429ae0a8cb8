"""The user-facing tensor functions, each a thin wrapper over one ``Function``.

``Tensor``'s methods and operators call these, and so do ``minigrad.nn.functional``
and user code (``minigrad.exp(x)``), so every op has exactly one definition.
Argument names and defaults follow PyTorch.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from minigrad.ops.elementwise import (
    Abs, Add, Clamp, Clone, Div, Exp, Log, Maximum, Minimum, Mul, Neg, Pow, ReLU,
    Sigmoid, Sqrt, Sub, Tanh, ToDtype, Where,
)
from minigrad.ops.indexing import Embedding, GetItem, IndexPut, fit_value
from minigrad.ops.linalg import MatMul
from minigrad.ops.reduction import Amax, Amin, LogSumExp, MaxDim, Mean, Sum, Var, normalize_dims
from minigrad.ops.shape import Cat, Expand, Permute, Reshape, Stack
from minigrad.ops.softmax import LogSoftmax, Softmax

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _tensor_cls():
    from minigrad.tensor import Tensor

    return Tensor


def _operand(x):
    """Lists become arrays (float32 for Python floats); tensors, arrays and Python numbers pass through."""
    if isinstance(x, (list, tuple)):
        from minigrad.tensor import _to_array

        return _to_array(x)
    return x


def _kind(x, dtype) -> str:
    if dtype is not None:
        return dtype.kind
    return "b" if isinstance(x, bool) else "i" if isinstance(x, int) else "f" if isinstance(x, float) else "?"


def _cast(x, dtype):
    if isinstance(x, np.ndarray):
        return x.astype(dtype)
    if isinstance(x, np.generic):
        return dtype.type(x)
    return to_dtype(x, dtype)


def _promote(fn, a, b, da, db):
    """PyTorch's type promotion where NumPy's differs.

    * integer (or bool) with floating: the floating operand's dtype - or float32 for a
      Python float - where NumPy would give float64;
    * integer / integer: float32 (true division), where NumPy gives float64;
    * a 0-d floating tensor does not widen a dimensioned one (float32 tensor + float64
      0-d tensor stays float32).
    """
    ka, kb = _kind(a, da), _kind(b, db)
    ints = "biu"
    if ka in ints and kb in ints:
        if fn is Div:
            f32 = np.dtype(np.float32)
            return (a if da is None else _cast(a, f32)), (b if db is None else _cast(b, f32))
        return a, b
    if ka == "f" and kb in ints:
        return a, (b if db is None else _cast(b, da if da is not None else np.dtype(np.float32)))
    if kb == "f" and ka in ints:
        return (a if da is None else _cast(a, db if db is not None else np.dtype(np.float32))), b
    if ka == "f" and kb == "f" and da is not None and db is not None:
        na, nb = np.ndim(a.data if hasattr(a, "grad_fn") else a), np.ndim(b.data if hasattr(b, "grad_fn") else b)
        if na == 0 and nb > 0:
            return _cast(a, db), b
        if nb == 0 and na > 0:
            return a, _cast(b, da)
    return a, b


def _dim(dim: int, ndim: int) -> int:
    return normalize_dims(dim, ndim)[0]


def _broadcast_error(*operands) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast (checked from the last dimension)."""
    shapes = [np.shape(getattr(x, "data", x)) for x in operands]
    ndim = builtins.max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    for i in range(ndim - 1, -1, -1):
        sizes = [s[i] for s in padded if s[i] != 1]
        if len(set(sizes)) > 1:
            a, b = sizes[0], next(n for n in sizes if n != sizes[0])
            return RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {i}"
            )
    return RuntimeError(f"shapes {shapes} cannot be broadcast together")


def _binary(fn, a, b):
    a, b = _operand(a), _operand(b)
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da != db or (fn is Div and da is not None and da.kind in "biu"):
        a, b = _promote(fn, a, b, da, db)
    try:
        return fn.apply(a, b)
    except ValueError:
        # NumPy's broadcasting error, raised as PyTorch raises it (a try block is free
        # in the common case, so this costs nothing when shapes agree).
        try:
            np.broadcast_shapes(np.shape(_data(_operand(a))), np.shape(_data(_operand(b))))
        except ValueError:
            raise _broadcast_error(a, b) from None
        raise


def _data(x):
    return getattr(x, "data", x)


# -- elementwise -------------------------------------------------------------------
def add(input, other):
    return _binary(Add, input, other)


def sub(input, other):
    return _binary(Sub, input, other)


def mul(input, other):
    return _binary(Mul, input, other)


def div(input, other):
    return _binary(Div, input, other)


def neg(input):
    return Neg.apply(input)


def pow(input, exponent):
    return _binary(Pow, input, exponent)


def exp(input):
    return Exp.apply(input)


def log(input):
    return Log.apply(input)


def sqrt(input):
    return Sqrt.apply(input)


def abs(input):
    return Abs.apply(input)


def tanh(input):
    return Tanh.apply(input)


def sigmoid(input):
    return Sigmoid.apply(input)


def relu(input):
    return ReLU.apply(input)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return Clamp.apply(input, min, max)


clip = clamp


def maximum(input, other):
    return _binary(Maximum, input, other)


def minimum(input, other):
    return _binary(Minimum, input, other)


def where(condition, input, other):
    try:
        return Where.apply(_operand(condition), _operand(input), _operand(other))
    except ValueError:
        shapes = [np.shape(_data(_operand(x))) for x in (condition, input, other)]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise _broadcast_error(condition, input, other) from None
        raise


def to_dtype(input, dtype):
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input  # as torch's .to(): the same tensor when nothing changes
    if dtype.kind not in "fc":
        # Integer and bool tensors cannot require grad: the result leaves the graph.
        return _tensor_cls()._make(input.data.astype(dtype), False, None)
    return ToDtype.apply(input, dtype)


def clone(input):
    return Clone.apply(input)


# -- reductions --------------------------------------------------------------------
def sum(input, dim=None, keepdim: bool = False):
    return Sum.apply(input, normalize_dims(dim, input.ndim), keepdim)


def mean(input, dim=None, keepdim: bool = False):
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got {input.dtype}")
    return Mean.apply(input, normalize_dims(dim, input.ndim), keepdim)


def _max_min(input, dim, keepdim, largest):
    if isinstance(dim, _tensor_cls()):  # torch.max(a, b) is the elementwise maximum
        return (maximum if largest else minimum)(input, dim)
    if input.numel() == 0:
        raise RuntimeError(f"{'max' if largest else 'min'}(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is None:
        return (Amax if largest else Amin).apply(input, normalize_dims(None, input.ndim), False)
    d = _dim(dim, input.ndim)
    values = MaxDim.apply(input, d, keepdim, largest)
    arg = np.argmax(input.data, axis=d) if largest else np.argmin(input.data, axis=d)
    if keepdim:
        arg = np.expand_dims(arg, d)
    return MaxMin(values, _tensor_cls()._make(arg.astype(np.int64), False, None))


def max(input, dim=None, keepdim: bool = False):
    """Largest element; with ``dim`` a ``(values, indices)`` pair (first index on ties)."""
    return _max_min(input, dim, keepdim, True)


def min(input, dim=None, keepdim: bool = False):
    """Smallest element; with ``dim`` a ``(values, indices)`` pair (first index on ties)."""
    return _max_min(input, dim, keepdim, False)


def amax(input, dim=(), keepdim: bool = False):
    return Amax.apply(input, normalize_dims(dim if dim != () else None, input.ndim), keepdim)


def amin(input, dim=(), keepdim: bool = False):
    return Amin.apply(input, normalize_dims(dim if dim != () else None, input.ndim), keepdim)


def var(input, dim=None, correction: int = 1, keepdim: bool = False):
    return Var.apply(input, normalize_dims(dim, input.ndim), correction, keepdim)


def std(input, dim=None, correction: int = 1, keepdim: bool = False):
    return sqrt(var(input, dim, correction, keepdim))


def logsumexp(input, dim, keepdim: bool = False):
    return LogSumExp.apply(input, normalize_dims(dim, input.ndim), keepdim)


def argmax(input, dim=None, keepdim: bool = False):
    Tensor = _tensor_cls()
    if dim is None:
        return Tensor._make(np.asarray(np.argmax(input.data), dtype=np.int64), False, None)
    d = _dim(dim, input.ndim)
    return Tensor._make(np.argmax(input.data, axis=d, keepdims=keepdim).astype(np.int64), False, None)


def argmin(input, dim=None, keepdim: bool = False):
    Tensor = _tensor_cls()
    if dim is None:
        return Tensor._make(np.asarray(np.argmin(input.data), dtype=np.int64), False, None)
    d = _dim(dim, input.ndim)
    return Tensor._make(np.argmin(input.data, axis=d, keepdims=keepdim).astype(np.int64), False, None)


def softmax(input, dim: int):
    return Softmax.apply(input, _dim(dim, input.ndim))


def log_softmax(input, dim: int):
    return LogSoftmax.apply(input, _dim(dim, input.ndim))


# -- linear algebra ----------------------------------------------------------------
def matmul(input, other):
    return MatMul.apply(_operand(input), _operand(other))


# -- shape -------------------------------------------------------------------------
def reshape(input, shape):
    return Reshape.apply(input, tuple(int(s) for s in shape))


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    if input.ndim == 0:
        return reshape(input, (1,))
    s, e = _dim(start_dim, input.ndim), _dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape
    return reshape(input, shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :])


def squeeze(input, dim=None):
    shape = input.shape
    if dim is None:
        return reshape(input, tuple(n for n in shape if n != 1))
    dims = normalize_dims(dim, input.ndim) if input.ndim else ()
    return reshape(input, tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1)))


def unsqueeze(input, dim: int):
    d = normalize_dims(dim, input.ndim + 1)[0]
    shape = input.shape
    return reshape(input, shape[:d] + (1,) + shape[d:])


def transpose(input, dim0: int, dim1: int):
    if input.ndim == 0:
        return input
    dims = list(range(input.ndim))
    a, b = _dim(dim0, input.ndim), _dim(dim1, input.ndim)
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, tuple(dims))


def permute(input, dims):
    dims = tuple(int(d) for d in dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            f"permute(): number of dimensions in the tensor input does not match the length "
            f"of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(_dim(d, input.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims)


def expand(input, sizes):
    sizes = tuple(int(s) for s in sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({input.ndim})"
        )
    # -1 keeps the existing size, as in PyTorch.
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return Expand.apply(input, shape)


def broadcast_to(input, shape):
    return expand(input, shape)


def cat(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for k, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be concatenated")
    return Cat.apply(_dim(dim, tensors[0].ndim), *tensors)


def stack(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {sorted(shapes)}")
    return Stack.apply(_dim(dim, tensors[0].ndim + 1), *tensors)


def split(input, split_size_or_sections, dim: int = 0):
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [builtins.min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                f"dimension {d}), but got split_sizes={sizes}"
            )
    out, start = [], 0
    for size in sizes:
        index = (slice(None),) * d + (slice(start, start + size),)
        out.append(getitem(input, index))
        start += size
    return tuple(out)


def chunk(input, chunks: int, dim: int = 0):
    n = input.shape[_dim(dim, input.ndim)]
    return split(input, builtins.max(1, -(-n // chunks)), dim)


# -- indexing ----------------------------------------------------------------------
def _index_arg(index):
    """Tensors and lists inside an index become arrays (NumPy does the rest)."""
    Tensor = _tensor_cls()
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(input, index):
    return GetItem.apply(input, _index_arg(index))


def setitem(input, index, value) -> None:
    """``input[index] = value``, in place (differentiable for non-leaf ``input``)."""
    Tensor = _tensor_cls()
    index = _index_arg(index)
    input._check_inplace()
    value_req = isinstance(value, Tensor) and value.requires_grad
    from minigrad.autograd import is_grad_enabled

    if is_grad_enabled() and (input.requires_grad or value_req):
        input._inplace(IndexPut.apply(input._snapshot(value), index, value))
    else:
        v = np.asarray(value.data if isinstance(value, Tensor) else value)
        input.data[index] = fit_value(v, np.ndim(input.data[index]))
        input._bump_version()


def embedding(input, weight):
    """Rows of ``weight`` (V, D) at the integer positions ``input`` (any shape)."""
    idx = input.data if isinstance(input, _tensor_cls()) else np.asarray(input)
    return Embedding.apply(idx, weight)
