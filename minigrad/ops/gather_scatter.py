"""PyTorch's gather and scatter family: ``gather``, ``scatter``, ``scatter_add``,
``index_select`` and ``index_add``, all built on the row kernels' ops.

None of them needs a derivative of its own. Each moves the chosen dimension (or, for
the elementwise ``gather``/``scatter_add``, flattens the tensor) so that what it
reads or writes is whole rows, then runs :class:`~minigrad.ops.indexing.Gather`
(the gather kernel) or :class:`~minigrad.ops.indexing.IndexAdd` (the index-add
kernel). Those two are each other's VJP, so these ops are differentiable to every
order:

* ``gather(x, dim, index)`` reads x at flat positions p: ``x.reshape(-1, 1)[p]``;
  x̄ is ȳ index-added at p.
* ``scatter_add(x, dim, index, src)`` = x + (src index-added at p); src̄ = ȳ gathered at p.
* ``index_select(x, dim, index)`` gathers rows of x with ``dim`` moved to the front;
  ``index_add`` index-adds rows. Each is the other's VJP.
* ``scatter(x, dim, index, src)`` writes src at p: :class:`~minigrad.ops.indexing.IndexPut`
  on the flattened x (x̄ = ȳ with the written positions zeroed, src̄ = ȳ gathered at p).
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import function
from minigrad.autograd.function import rename_node
from minigrad.ops.elementwise import Add, Mul
from minigrad.ops.indexing import Gather, IndexAdd, IndexPut
from minigrad.ops._promotion import data_of, normalize_dims, torch_dtype_name
from minigrad.ops.shape import Permute, Reshape

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add"]

_data = data_of


def _index(index, message: str, error=RuntimeError) -> np.ndarray:
    """A copy of the index's array (the ops keep it for backward: a later in-place change of the
    index tensor must not reach them); int32/int64 only, as PyTorch (its message for anything else)."""
    idx = np.array(_data(index))
    if idx.dtype not in (np.int32, np.int64):
        raise error(message)
    return idx


def _one_dim(dim, ndim: int) -> int:
    """``dim`` normalized; a 0-d tensor takes dim 0 or -1 (treated as one dimension of size 1)."""
    if ndim == 0:
        normalize_dims(dim, 0)  # raises for a dim other than 0 / -1
        return 0
    return normalize_dims(dim, ndim)[0]


def _check_range(idx: np.ndarray, size: int, dim: int) -> None:
    bad = (idx < 0) | (idx >= size)
    if bad.any():
        raise RuntimeError(f"index {idx[bad].flat[0]} is out of bounds for dimension {dim} with size {size}")


def _positions(shape: tuple, dim: int, idx: np.ndarray) -> np.ndarray:
    """Flat positions, in a C-ordered array of ``shape``, of ``x[i, ..., idx[i, ..., k, ...], ..., k]``
    (``idx`` in dimension ``dim``, its own position everywhere else): the elements gather reads."""
    grids = list(np.indices(idx.shape, sparse=True))
    grids[dim] = idx
    return np.ravel_multi_index(tuple(grids), shape).reshape(-1)


def _check_along_dim(name: str, input, dim: int, idx: np.ndarray, src=None) -> None:
    """PyTorch's checks for gather/scatter: same ndim, index no larger than self (and src)
    apart from ``dim``, indices in range."""
    shape = np.shape(_data(input))
    if idx.ndim != len(shape):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if idx.size == 0:
        return
    src_shape = None if src is None else np.shape(_data(src))
    too_big = any(n > m for d, (n, m) in enumerate(zip(idx.shape, shape)) if d != dim)
    if src_shape is not None:
        if too_big or any(n > m for n, m in zip(idx.shape, src_shape)):
            raise RuntimeError(
                f"Expected index {list(idx.shape)} to be no larger than self {list(shape)} apart from "
                f"dimension {dim} and to be no larger size than src {list(src_shape)}"
            )
    elif too_big:
        d = next(d for d, (n, m) in enumerate(zip(idx.shape, shape)) if d != dim and n > m)
        raise RuntimeError(
            f"Size does not match at dimension {d} expected index {list(idx.shape)} to be no larger "
            f"than self {list(shape)} apart from dimension {dim}"
        )
    _check_range(idx, shape[dim], dim)


def _as_1d(x):
    return Reshape.apply(x, (1,)) if np.ndim(_data(x)) == 0 else x


def gather(input, dim: int, index, *, sparse_grad: bool = False):
    """Values of ``input`` along ``dim`` at ``index``: ``y[i][j][k] = input[i][index[i][j][k]][k]`` for dim 1.

    ``index`` has ``input``'s number of dimensions and is no larger in the others; the
    result has ``index``'s shape. The gradient index-adds ȳ at the positions read
    (see the module docstring), so repeated indices accumulate.

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor of int64 or int32
    sparse_grad : bool, default False
        Accepted for PyTorch's signature; the gradient is dense.

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> minigrad.gather(x, 1, minigrad.tensor([[0, 0], [1, 0]]))
    tensor([[1., 1.],
            [4., 3.]])
    """
    idx = _index(index, "gather(): Expected dtype int32/int64 for index")
    d = _one_dim(dim, input.ndim)
    if input.ndim == 0:
        return rename_node(Reshape.apply(gather(_as_1d(input), d, idx.reshape(1)), idx.shape), "GatherBackward0")
    _check_along_dim("gather", input, d, idx)
    if idx.size == 0:
        return rename_node(Reshape.apply(Gather.apply(Reshape.apply(input, (-1, 1)), np.zeros(0, np.int64)), idx.shape), "GatherBackward0")
    rows = Gather.apply(Reshape.apply(input, (-1, 1)), _positions(input.shape, d, idx))
    return rename_node(Reshape.apply(rows, idx.shape), "GatherBackward0")


def _src_part(src, shape: tuple):
    """The leading block of ``src`` of ``shape`` (scatter reads only the positions the index has)."""
    if np.shape(_data(src)) == shape:
        return src
    return src[tuple(slice(0, n) for n in shape)]


def _scatter_args(name, input, dim, index, src):
    idx = _index(index, f"{name}(): Expected dtype int64 for index")
    d = _one_dim(dim, input.ndim)
    if isinstance(src, function.Tensor) and src.dtype != input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    return idx, d


def scatter_add(input, dim: int, index, src):
    """``input`` plus ``src`` added at ``index`` along ``dim``: ``y[i][index[i][j][k]][k] += src[i][j][k]`` for dim 1.

    Repeated indices accumulate. Only ``src``'s leading block of ``index``'s shape is
    read. ȳ reaches ``input`` unchanged and ``src`` gathered at the same positions.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.scatter_add(minigrad.zeros(3), 0, minigrad.tensor([0, 2, 0]), minigrad.ones(3))
    tensor([2., 0., 1.])
    """
    idx, d = _scatter_args("scatter_add", input, dim, index, src)
    if input.ndim == 0:
        return rename_node(Reshape.apply(scatter_add(_as_1d(input), d, idx.reshape(1), _as_1d(src)), ()), "ScatterAddBackward0")
    _check_along_dim("scatter_add", input, d, idx, src)
    if idx.size == 0:
        return rename_node(Add.apply(input, np.zeros((), input.dtype)), "ScatterAddBackward0")
    src_rows = Reshape.apply(_src_part(src, idx.shape), (-1, 1))
    added = IndexAdd.apply(src_rows, _positions(input.shape, d, idx), input.numel())
    return rename_node(Add.apply(input, Reshape.apply(added, input.shape)), "ScatterAddBackward0")


# PyTorch's overloads: scatter(src=tensor), scatter(value=number).
_SCATTER_NODE_NAMES = {True: "ScatterBackward0", False: "ScatterBackward1"}


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src`` (a tensor, or a number ``value``) written at ``index`` along ``dim``.

    ``y[i][index[i][j][k]][k] = src[i][j][k]`` for dim 1. Where ``index`` repeats a
    position, which write wins is unspecified (as in PyTorch). ȳ reaches ``input``
    except at the written positions, and ``src`` gathered at them.

    Parameters
    ----------
    input : Tensor
    dim : int
    index : Tensor of int64
    src : Tensor or number
        A number is the ``value`` form (``x.scatter(1, index, 1.0)``).
    value : number, optional
        Keyword form of a number ``src``.
    reduce : None
        PyTorch's deprecated reduction modes are not provided (use :func:`scatter_add`).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.zeros(2, 3).scatter(1, minigrad.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not provided: use scatter_add for 'add'")
    if src is None:
        if value is None:
            raise TypeError("scatter() missing the src tensor or the value")
        src = value
    idx, d = _scatter_args("scatter", input, dim, index, src)
    if input.ndim == 0:
        return rename_node(Reshape.apply(scatter(_as_1d(input), d, idx.reshape(1), _as_1d(src) if isinstance(src, function.Tensor) else src), ()), _SCATTER_NODE_NAMES[isinstance(src, function.Tensor)])
    if isinstance(src, function.Tensor):
        _check_along_dim("scatter", input, d, idx, src)
        v = Reshape.apply(_src_part(src, idx.shape), (-1,)) if idx.size else np.zeros(0, input.dtype)
    else:
        _check_along_dim("scatter", input, d, idx)
        v = _fill_value(src, input.dtype, check=idx.size > 0)
    positions = _positions(input.shape, d, idx) if idx.size else np.zeros(0, np.int64)
    return rename_node(Reshape.apply(IndexPut.apply(Reshape.apply(input, (-1,)), positions, v), input.shape), _SCATTER_NODE_NAMES[isinstance(src, function.Tensor)])


def _fill_value(value, dtype, check: bool) -> np.ndarray:
    """A number as a 0-d array of ``dtype``; PyTorch refuses to write one an integer dtype cannot hold."""
    v = np.asarray(_data(value))
    if check and dtype.kind in "iu" and v.dtype.kind in "biuf":
        info = np.iinfo(dtype)
        if not info.min <= v <= info.max:
            raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without overflow")
    return v.astype(dtype)


def _rows_first(x, dim: int):
    """``x`` with ``dim`` moved to the front and the rest flattened: (size of dim, rest)."""
    shape = x.shape
    if dim:
        order = (dim,) + tuple(i for i in range(len(shape)) if i != dim)
        x = Permute.apply(x, order)
    return Reshape.apply(x, (shape[dim], int(np.prod([n for i, n in enumerate(shape) if i != dim]))))


def _rows_back(rows, shape: tuple, dim: int):
    """Undo :func:`_rows_first` for a result whose ``dim`` has ``rows.shape[0]`` entries."""
    moved = (rows.shape[0],) + tuple(n for i, n in enumerate(shape) if i != dim)
    y = Reshape.apply(rows, moved)
    if dim:
        order = tuple(range(1, dim + 1)) + (0,) + tuple(range(dim + 1, len(shape)))
        y = Permute.apply(y, order)
    return y


def _vector_index(index, name: str) -> np.ndarray:
    idx = _index(index, f"{name}(): Expected dtype int32 or int64 for index")
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    return idx.reshape(-1)


def index_select(input, dim: int, index):
    """The entries of ``input`` along ``dim`` at the positions ``index`` (a vector): rows of the gather kernel.

    With ``dim`` moved to the front, ``y[k] = x[index[k]]``; ȳ is index-added back, so
    repeated indices accumulate.

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    >>> minigrad.index_select(x, 1, minigrad.tensor([2, 0]))
    tensor([[3., 1.],
            [6., 4.]])
    """
    idx = _vector_index(index, "index_select")
    if input.ndim == 0:
        return rename_node(Reshape.apply(index_select(_as_1d(input), dim, idx), ()), "IndexSelectBackward0")
    d = _one_dim(dim, input.ndim)
    n = input.shape[d]
    bad = (idx < 0) | (idx >= n)
    if bad.any():
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={idx[bad][0]} axis_dim={n}")
    return rename_node(_rows_back(Gather.apply(_rows_first(input, d), idx), input.shape, d), "IndexSelectBackward0")


def index_add(input, dim: int, index, source, *, alpha=1):
    """``input`` plus ``alpha · source`` added at the positions ``index`` (a vector) along ``dim``.

    With ``dim`` moved to the front, ``y[index[k]] += alpha · source[k]``: the index-add
    kernel on rows, repeated indices accumulating. ȳ reaches ``input`` unchanged and
    ``source`` gathered at ``index`` (:func:`index_select`) times ``alpha``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.index_add(minigrad.zeros(3, 2), 0, minigrad.tensor([0, 2, 0]), minigrad.ones(3, 2))
    tensor([[2., 2.],
            [0., 0.],
            [1., 1.]])
    """
    idx = _vector_index(index, "index_add_")
    if input.ndim == 0:
        return rename_node(Reshape.apply(index_add(_as_1d(input), dim, idx, _as_1d(source), alpha=alpha), ()), "IndexAddBackward0")
    d = _one_dim(dim, input.ndim)
    if source.dtype != input.dtype:
        raise RuntimeError(
            f"index_add_(): self ({torch_dtype_name(input.dtype)}) and source "
            f"({torch_dtype_name(source.dtype)}) must have the same scalar type"
        )
    src_shape = source.shape if source.ndim else (1,)
    if len(src_shape) != input.ndim or any(n != m for i, (n, m) in enumerate(zip(src_shape, input.shape)) if i != d):
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. "
            f"Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}"
        )
    if idx.size != src_shape[d]:
        raise RuntimeError(
            f"index_add_(): Number of indices ({idx.size}) should be equal to source.size(dim): "
            f"({src_shape[d]}), for dim: {d}"
        )
    _check_range(idx, input.shape[d], d)
    added = IndexAdd.apply(_rows_first(Reshape.apply(source, src_shape), d), idx, input.shape[d])
    added = _rows_back(added, input.shape, d)
    if alpha != 1:
        added = Mul.apply(added, np.asarray(alpha, dtype=input.dtype))
    return rename_node(Add.apply(input, added), "IndexAddBackward0")
