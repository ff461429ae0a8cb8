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
from minigrad.ops.indexing import Embedding, GetItem, IndexPut
from minigrad.ops.linalg import MatMul
from minigrad.ops.reduction import Amax, Amin, LogSumExp, MaxDim, Mean, Sum, Var, normalize_dims
from minigrad.ops.shape import Cat, Expand, Permute, Reshape, Stack
from minigrad.ops.softmax import LogSoftmax, Softmax

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _tensor_cls():
    from minigrad.tensor import Tensor

    return Tensor


def _operand(x):
    """Lists become arrays; tensors, arrays and Python numbers pass through."""
    return np.asarray(x) if isinstance(x, (list, tuple)) else x


def _dim(dim: int, ndim: int) -> int:
    return normalize_dims(dim, ndim)[0]


# -- elementwise -------------------------------------------------------------------
def add(input, other):
    return Add.apply(_operand(input), _operand(other))


def sub(input, other):
    return Sub.apply(_operand(input), _operand(other))


def mul(input, other):
    return Mul.apply(_operand(input), _operand(other))


def div(input, other):
    return Div.apply(_operand(input), _operand(other))


def neg(input):
    return Neg.apply(input)


def pow(input, exponent):
    return Pow.apply(_operand(input), _operand(exponent))


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
    return Maximum.apply(_operand(input), _operand(other))


def minimum(input, other):
    return Minimum.apply(_operand(input), _operand(other))


def where(condition, input, other):
    return Where.apply(_operand(condition), _operand(input), _operand(other))


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
        input.data[index] = value.data if isinstance(value, Tensor) else value
        input._bump_version()


def embedding(input, weight):
    """Rows of ``weight`` (V, D) at the integer positions ``input`` (any shape)."""
    idx = input.data if isinstance(input, _tensor_cls()) else np.asarray(input)
    return Embedding.apply(idx, weight)
