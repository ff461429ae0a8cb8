"""Indexing: ``x[index]``, ``x[index] = v``, and the row gather and index-add kernels as ops.

Each pair here is each other's VJP - ``x[index]`` and :class:`IndexPutAccumulate`,
:class:`Gather` and :class:`IndexAdd` - so indexing and lookups are differentiable
to any order. Backward formulas reach the kernels through :func:`gather` and
:func:`index_add`, which run the kernel on arrays (first order) and the op on
tensors (when a graph is recorded). The public functions :func:`getitem` and
:func:`setitem` sit beside the op each calls; the embedding lookup built on
gather and index-add is in :mod:`minigrad.ops.embedding`."""
from __future__ import annotations

import math

import numpy as np

from minigrad import kernels
from minigrad.autograd import Primitive, function, is_grad_enabled
from minigrad.autograd.function import rename_node
from minigrad.ops._promotion import data_of, torch_dtype_name


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def gather_rows(weight: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``weight[idx]`` (rows): the gather kernel for float32/float64 tables; NumPy's ``take``,
    after the same range check, for the dtypes the kernels are not compiled for (float16,
    integers, bool), which PyTorch's embedding accepts too."""
    if weight.dtype in _KERNEL_DTYPES:
        return kernels.gather(weight, idx)
    _check_rows(idx, weight.shape[0], "weight")
    return np.take(weight, idx, axis=0)


def index_add_rows(out: np.ndarray, idx: np.ndarray, src: np.ndarray) -> np.ndarray:
    """``out[idx[i], :] += src[i, :]``, repeats accumulating: the index-add kernel for float32/float64,
    ``np.add.at`` for other dtypes (float16 gradients). Returns ``out``."""
    if out.dtype in _KERNEL_DTYPES:
        return kernels.index_add(out, idx, src)
    flat = idx.reshape(-1)
    _check_rows(flat, out.shape[0], "out")
    np.add.at(out, flat, src.reshape(flat.shape[0], out.shape[1]))
    return out


def _check_rows(idx, n_rows, name):
    bad = (idx < 0) | (idx >= n_rows)
    if bad.any():
        raise IndexError(f"index {idx[bad].flat[0]} is out of range for {name} with {n_rows} rows (valid range [0, {n_rows}))")


def _is_advanced(index) -> bool:
    """True when NumPy would use advanced (copying) indexing for ``index``."""
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (np.ndarray, list)) for i in items)


class GetItem(Primitive):
    """y = x[index] (NumPy semantics: slices, ints, None, ..., bool masks, integer arrays).

    VJP: x̄ = zeros like x, then x̄[index] += ȳ: :class:`IndexPutAccumulate`, whose own
    VJP is this op again.
    """

    node_name = "IndexBackward0"

    is_view = True  # basic indexing returns a view of x

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        y = x[index]
        if isinstance(y, np.ndarray):
            return y
        # Integers in every dimension give a NumPy scalar (a copy); a trailing
        # Ellipsis gives the same value as a 0-d *view*, as PyTorch's x[i] is.
        items = index if isinstance(index, tuple) else (index,)
        if not any(i is Ellipsis for i in items):
            return x[items + (Ellipsis,)]
        return np.asarray(y)

    @staticmethod
    def backward(ctx, grad):
        return index_put_accumulate(ctx.in_shape, ctx.index, grad), None


def _index_arg(index):
    """Lists inside an index become arrays (NumPy does the rest). Tensors stay
    tensors: ``apply`` hands their arrays to the op and version-checks them."""
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(input, index):
    """``input[index]`` with NumPy's indexing rules (:class:`GetItem`)."""
    out = GetItem.apply(input, _index_arg(index))
    if out.grad_fn is not None:
        rename_node(out, _index_node_name(index))
    return out


_BASIC_NODE_NAMES = {int: "SelectBackward0", slice: "SliceBackward0", type(None): "UnsqueezeBackward0"}


def _index_node_name(index) -> str:
    """PyTorch's node for ``x[index]``: ``IndexBackward0`` if any part is advanced (an array,
    list or tensor), else that of its last step (int: select, slice: slice, None: unsqueeze).
    Inside a tuple PyTorch skips a full slice ``:``, so ``x[0, :]`` is a select."""
    items = index if isinstance(index, tuple) else (index,)
    name = "AliasBackward0"  # x[...]: nothing but an alias
    for i in items:
        if isinstance(i, (np.ndarray, list, function.Tensor)):
            return "IndexBackward0"
        if isinstance(i, slice) and i == slice(None) and isinstance(index, tuple):
            continue
        name = _BASIC_NODE_NAMES.get(int if isinstance(i, (int, np.integer)) else type(i), name)
    return name


def _take(g, index):
    """``g[index]`` as an array (NumPy returns a scalar for all-integer indices) or a Tensor."""
    y = g[index]
    return np.asarray(y) if isinstance(y, np.generic) else y


def _index_put_accumulate_array(shape, index, src):
    out = np.zeros(shape, dtype=src.dtype)
    if not _is_advanced(index):
        # Basic indexing selects each element at most once: a plain assignment is enough.
        out[index] = src
    elif isinstance(index, np.ndarray) and index.dtype.kind in "iu" and out.ndim >= 1:
        # out[idx] with one integer array is whole rows: the row index-add kernel.
        rows = out.reshape(out.shape[0], math.prod(out.shape[1:]))
        idx = np.where(index < 0, index + out.shape[0], index)
        index_add_rows(rows, idx, src.reshape(idx.shape + (rows.shape[1],)))
    else:
        # ``out[index] += src`` would keep only one of two repeated positions;
        # np.add.at (the general index-add) accumulates them.
        np.add.at(out, index, src)
    return out


class IndexPutAccumulate(Primitive):
    """y = zeros(shape), then y[index] += src, repeated positions accumulating (the VJP of x[index]).

    VJP: src̄ = ȳ[index], i.e. :class:`GetItem`. The two are each other's VJP,
    so indexing can be differentiated to any order.
    """

    @staticmethod
    def forward(ctx, src, index, shape):
        ctx.index = index
        return _index_put_accumulate_array(shape, index, src)

    @staticmethod
    def backward(ctx, grad):
        return _take(grad, ctx.index), None, None


def index_put_accumulate(shape, index, src):
    """zeros(shape) with ``[index] += src``: NumPy on an array, :class:`IndexPutAccumulate` on a tensor."""
    if isinstance(src, function.Tensor):
        return IndexPutAccumulate.apply(src, index, shape)
    return _index_put_accumulate_array(shape, index, src)


class IndexPut(Primitive):
    """y = x with y[index] = v.   VJP: x̄ = ȳ with the written positions zeroed,  v̄ = ȳ[index]."""

    @staticmethod
    def forward(ctx, x, index, v):
        ctx.index = index
        y = x.copy()
        v = np.asarray(v)
        ctx.v_shape = v.shape
        ctx.fitted_shape = fit_value(v, np.ndim(y[index])).shape
        y[index] = v.reshape(ctx.fitted_shape)
        return y

    @staticmethod
    def backward(ctx, grad):
        written = np.zeros(np.shape(grad), dtype=bool)
        written[ctx.index] = True
        gx = np.where(written, np.zeros((), dtype=grad.dtype), grad)
        gv = None
        if ctx.needs_input_grad[2]:
            # ȳ at the written positions, summed over the dims that broadcasting gave v.
            gv = _take(grad, ctx.index)
            shape = np.shape(gv)
            lead = len(shape) - len(ctx.fitted_shape)
            axes = tuple(range(lead)) + tuple(
                lead + i for i, n in enumerate(ctx.fitted_shape) if n == 1 and shape[lead + i] != 1
            )
            if axes:
                gv = np.sum(gv, axis=axes, keepdims=True)
            gv = np.reshape(gv, ctx.v_shape)
        return gx, None, gv


def _index_data(index):
    """An index with the arrays of its tensors, for NumPy."""
    if isinstance(index, tuple):
        return tuple(data_of(i) for i in index)
    return data_of(index)


def setitem(input, index, value) -> None:
    """``input[index] = value``, in place (:class:`IndexPut`; differentiable for non-leaf ``input``)."""
    Tensor = function.Tensor
    index = _index_arg(index)
    input._check_inplace()
    if isinstance(value, Tensor) and value.dtype != input.dtype and _is_advanced(index):
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got {torch_dtype_name(input.dtype)} "
            f"for the destination and {torch_dtype_name(value.dtype)} for the source."
        )
    value_req = isinstance(value, Tensor) and value.requires_grad
    if is_grad_enabled() and (input.requires_grad or value_req):
        input._inplace(IndexPut.apply(input._snapshot(value), index, value))
    else:
        v = np.asarray(value._array if isinstance(value, Tensor) else value)
        index = _index_data(index)
        input._array[index] = fit_value(v, np.ndim(input._array[index]))
        input._bump_version()


def fit_value(v: np.ndarray, target_ndim: int) -> np.ndarray:
    """Drop leading size-1 dims that ``v`` has beyond the target's (PyTorch accepts
    ``x[0] = t`` for a 0-d slot and ``t`` of shape (1,); NumPy does not)."""
    extra = v.ndim - target_ndim
    if extra > 0 and all(n == 1 for n in v.shape[:extra]):
        return v.reshape(v.shape[extra:])
    return v


class Gather(Primitive):
    """y[..., :] = W[idx[...], :]: rows of the table W (V, D) at the integer positions idx (the gather kernel).

    VJP: W̄ = zeros (V, D), then W̄[idx[i], :] += ȳ[i, :]: :class:`IndexAdd` (the index-add
    kernel). gather's VJP is index-add, and index-add's VJP is gather, so both are
    differentiable to any order. The indices get no gradient.
    """

    @staticmethod
    def forward(ctx, weight, idx):
        ctx.idx, ctx.num_rows = idx, weight.shape[0]
        return gather_rows(weight, idx)

    @staticmethod
    def backward(ctx, grad):
        return index_add(ctx.num_rows, ctx.idx, grad), None


class IndexAdd(Primitive):
    """y = zeros (num_rows, D), then y[idx[i], :] += src[i, :], repeated rows accumulating (the index-add kernel).

    VJP: src̄[i, :] = ȳ[idx[i], :]: :class:`Gather` (the gather kernel). index-add's
    VJP is gather, and gather's VJP is index-add. The indices get no gradient.
    """

    @staticmethod
    def forward(ctx, src, idx, num_rows):
        ctx.idx = idx
        return index_add_rows(np.zeros((num_rows, src.shape[-1]), dtype=src.dtype), idx, src)

    @staticmethod
    def backward(ctx, grad):
        return gather(grad, ctx.idx), None, None


def gather(weight, idx):
    """Rows ``weight[idx]``: the gather kernel on an array, the differentiable :class:`Gather` on a tensor.

    Backward formulas call this (not the kernel) so that they serve every order.
    """
    if isinstance(weight, function.Tensor):
        return Gather.apply(weight, idx)
    return gather_rows(weight, idx)


def index_add(num_rows, idx, src):
    """zeros (num_rows, D) with rows ``src`` added at ``idx``: the index-add kernel on an
    array, the differentiable :class:`IndexAdd` on a tensor.

    Backward formulas call this (not the kernel) so that they serve every order.
    """
    if isinstance(src, function.Tensor):
        return IndexAdd.apply(src, idx, num_rows)
    return index_add_rows(np.zeros((num_rows, src.shape[-1]), dtype=src.dtype), idx, src)
