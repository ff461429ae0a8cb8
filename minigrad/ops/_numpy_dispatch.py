"""NumPy functions on tensors: the table that lets one backward formula serve every order.

Every op's backward is written once, in NumPy (``grad * np.exp(x)``,
``np.sum(g, axis=1, keepdims=True)``). At first order the engine hands it
ndarrays and NumPy computes. When a graph is recorded (``create_graph=True``)
the engine hands it tensors instead, and NumPy passes each call on a tensor to
``Tensor.__array_ufunc__`` / ``Tensor.__array_function__``, which look the NumPy
function up in :data:`HANDLED` and call minigrad's differentiable op in its
place. So the same formula records its own graph and can be differentiated
again, to any order.

The entries take NumPy's arguments (``axis=``, ``keepdims=``, ...). Two kinds:

* **differentiable**: the NumPy function becomes the minigrad op (``np.exp`` ->
  :func:`minigrad.exp`, ``np.sum`` -> :func:`minigrad.sum`); the result is a Tensor.
* **constant**: comparisons, masks, ``sign``, ``isfinite``, shapes and the like
  have no gradient (or a zero one); they are computed on the tensors' arrays and
  return plain ndarrays, exactly what NumPy gives for an object with ``__array__``.

A NumPy function missing from the table raises ``TypeError`` on a tensor rather
than silently treating it as a constant, which would drop a term of a
higher-order gradient. ``out=`` and the other NumPy-only arguments (``where=``,
``dtype=``, ``initial=``) are refused for the same reason.

The kernels have no NumPy spelling; :func:`minigrad.ops.indexing.gather` and
:func:`minigrad.ops.indexing.index_add` play the same role for them.
"""
from __future__ import annotations

import builtins

import numpy as np

from minigrad.autograd import function
from minigrad.ops import elementwise as _elementwise
from minigrad.ops import indexing as _indexing
from minigrad.ops import linalg as _linalg
from minigrad.ops import reduction as _reduction
from minigrad.ops import scan as _scan_ops
from minigrad.ops import shape as _shape

HANDLED: dict = {}
"""NumPy ufunc or function -> minigrad implementation taking NumPy's arguments."""


def _refuse(name, kwargs):
    """Refuse NumPy-only keyword arguments (``out=None`` is harmless and allowed)."""
    for k, v in kwargs.items():
        if k == "out" and (v is None or (isinstance(v, tuple) and all(o is None for o in v))):
            continue
        raise TypeError(
            f"numpy.{name}() on a minigrad Tensor does not support {k}=: only a new Tensor, "
            "computed by minigrad's ops, can be differentiated"
        )


def _register(np_func, allowed=()):
    """Register ``impl`` for ``np_func``, refusing NumPy-only keyword arguments."""

    def deco(impl):
        name = getattr(np_func, "__name__", str(np_func))

        def entry(*args, **kwargs):
            _refuse(name, {k: v for k, v in kwargs.items() if k not in allowed})
            return impl(*args, **{k: v for k, v in kwargs.items() if k in allowed})

        entry.__name__ = entry.__qualname__ = f"{name}_on_tensors"
        entry.__doc__ = impl.__doc__
        entry.implementation = impl
        HANDLED[np_func] = entry
        return impl

    return deco


# -- differentiable ufuncs -------------------------------------------------------
_UNARY = {
    np.negative: _elementwise.neg,
    np.exp: _elementwise.exp,
    np.log: _elementwise.log,
    np.sqrt: _elementwise.sqrt,
    np.tanh: _elementwise.tanh,
    np.absolute: _elementwise.abs,
    np.sin: _elementwise.sin,
    np.cos: _elementwise.cos,
}
_BINARY = {
    np.add: _elementwise.add,
    np.subtract: _elementwise.sub,
    np.multiply: _elementwise.mul,
    np.true_divide: _elementwise.div,
    np.power: _elementwise.pow,
    np.maximum: _elementwise.maximum,
    np.minimum: _elementwise.minimum,
    np.matmul: _linalg.matmul,
}
for _uf, _fn in _UNARY.items():
    _register(_uf)(_fn)
for _uf, _fn in _BINARY.items():
    _register(_uf)(_fn)


@_register(np.positive)
def _positive(x):
    return x


@_register(np.square)
def _square(x):
    return _elementwise.mul(x, x)


@_register(np.reciprocal)
def _reciprocal(x):
    return _elementwise.div(1.0, x)


@_register(np.log1p)
def _log1p(x):
    return _elementwise.log1p(x)


@_register(np.expm1)
def _expm1(x):
    return _elementwise.expm1(x)


@_register(np.clip)
def _clip(a, a_min=None, a_max=None):
    return _elementwise.clamp(a, a_min, a_max)


# -- constant ufuncs and functions: computed on the arrays, returned as ndarrays ------
def _constant(np_func):
    def entry(*args, **kwargs):
        if kwargs.get("out") is not None:
            _refuse(getattr(np_func, "__name__", str(np_func)), {"out": kwargs["out"]})
        return np_func(*_arrays(args), **_arrays(kwargs))

    entry.__name__ = f"{getattr(np_func, '__name__', np_func)}_constant"
    entry.__doc__ = "No gradient: computed on the arrays and returned as an ndarray."
    HANDLED[np_func] = entry


def _arrays(obj):
    """Replace tensors (also inside lists, tuples and dicts) by their arrays."""
    Tensor = function.Tensor
    if isinstance(obj, Tensor):
        return obj._array
    if isinstance(obj, (list, tuple)):
        return type(obj)(_arrays(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _arrays(v) for k, v in obj.items()}
    return obj


for _f in (
    # comparisons and logic
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert,
    np.isfinite, np.isnan, np.isinf, np.signbit,
    # piecewise constant: zero derivative wherever it exists (PyTorch's too)
    np.sign, np.floor, np.ceil, np.rint, np.trunc,
    # shapes, dtypes, counts, positions
    np.shape, np.ndim, np.size, np.result_type, np.zeros_like, np.ones_like, np.full_like,
    np.empty_like, np.any, np.all, np.count_nonzero, np.argmax, np.argmin, np.nonzero,
    np.array_equal, np.allclose, np.isclose, np.may_share_memory, np.shares_memory,
):
    _constant(_f)


# -- differentiable array functions ------------------------------------------------
def _as_tensor(x):
    Tensor = function.Tensor
    if isinstance(x, Tensor):
        return x
    return Tensor._make(np.asarray(x), False, None)


@_register(np.sum, allowed=("axis", "keepdims"))
def _sum(a, axis=None, keepdims=False):
    if axis == ():  # NumPy: reduce over no axis (PyTorch's empty dim list would mean all)
        return _as_tensor(a)
    return _reduction.sum(_as_tensor(a), axis, bool(keepdims))


@_register(np.mean, allowed=("axis", "keepdims"))
def _mean(a, axis=None, keepdims=False):
    if axis == ():  # NumPy: reduce over no axis (PyTorch's empty dim list would mean all)
        return _as_tensor(a)
    return _reduction.mean(_as_tensor(a), axis, bool(keepdims))


def _amax(a, axis=None, keepdims=False):
    if axis == ():
        return _as_tensor(a)
    return _reduction.amax(_as_tensor(a), () if axis is None else axis, bool(keepdims))


def _amin(a, axis=None, keepdims=False):
    if axis == ():
        return _as_tensor(a)
    return _reduction.amin(_as_tensor(a), () if axis is None else axis, bool(keepdims))


for _f in (np.max, np.amax):
    _register(_f, allowed=("axis", "keepdims"))(_amax)
for _f in (np.min, np.amin):
    _register(_f, allowed=("axis", "keepdims"))(_amin)


@_register(np.where)
def _where(condition, x=None, y=None):
    if x is None or y is None:
        raise TypeError("numpy.where(condition) (the indices form) has no gradient: use np.nonzero on the array")
    return _elementwise.where(_arrays(condition), x, y)


@_register(np.broadcast_to)
def _broadcast_to(array, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _shape.expand(_as_tensor(array), shape)


@_register(np.reshape, allowed=("shape", "newshape"))
def _reshape(a, shape=None, newshape=None):
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _shape.reshape(_as_tensor(a), shape)


@_register(np.ravel)
def _ravel(a):
    return _shape.reshape(_as_tensor(a), (-1,))


@_register(np.transpose, allowed=("axes",))
def _transpose(a, axes=None):
    a = _as_tensor(a)
    return _shape.permute(a, tuple(range(a.ndim))[::-1] if axes is None else tuple(axes))


@_register(np.swapaxes)
def _swapaxes(a, axis1, axis2):
    return _shape.transpose(_as_tensor(a), axis1, axis2)


@_register(np.moveaxis)
def _moveaxis(a, source, destination):
    a = _as_tensor(a)
    src = _norm_axes(source, a.ndim)
    dst = _norm_axes(destination, a.ndim)
    order = [d for d in range(a.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _shape.permute(a, tuple(order))


def _norm_axes(axes, ndim):
    axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    return tuple(int(d) % ndim for d in axes)


@_register(np.expand_dims)
def _expand_dims(a, axis):
    a = _as_tensor(a)
    axes = _norm_axes(axis, a.ndim + (1 if isinstance(axis, (int, np.integer)) else len(axis)))
    shape = list(a.shape)
    for d in sorted(axes):
        shape.insert(d, 1)
    return _shape.reshape(a, tuple(shape))


@_register(np.squeeze, allowed=("axis",))
def _squeeze(a, axis=None):
    return _shape.squeeze(_as_tensor(a), axis)


@_register(np.concatenate, allowed=("axis",))
def _concatenate(arrays, axis=0):
    arrays = [_as_tensor(a) for a in arrays]
    if axis is None:
        return _shape.cat([_shape.reshape(a, (-1,)) for a in arrays], 0)
    return _shape.cat(arrays, axis)


@_register(np.stack, allowed=("axis",))
def _stack(arrays, axis=0):
    return _shape.stack([_as_tensor(a) for a in arrays], axis)


@_register(np.split, allowed=("axis",))
def _split(ary, indices_or_sections, axis=0):
    a = _as_tensor(ary)
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if n % indices_or_sections:
            raise ValueError("array split does not result in an equal division")
        step = n // indices_or_sections
        bounds = list(range(step, n, step))
    else:
        bounds = [int(b) for b in indices_or_sections]
    edges = [0] + bounds + [n]
    sizes = [e - s for s, e in zip(edges[:-1], edges[1:])]
    if min(sizes) >= 0:  # the sections partition the axis (Cat's VJP): one Split node
        return list(_shape.split(a, sizes, axis))
    lead = (slice(None),) * (axis % a.ndim)
    return [_indexing.getitem(a, lead + (slice(s, builtins.max(s, e)),)) for s, e in zip(edges[:-1], edges[1:])]


@_register(np.take, allowed=("axis",))
def _take(a, indices, axis=None):
    a = _as_tensor(a)
    indices = np.asarray(_arrays(indices))
    if axis is None:
        return _indexing.getitem(_shape.reshape(a, (-1,)), indices)
    return _indexing.getitem(a, (slice(None),) * (axis % a.ndim) + (indices,))


def _scan(op, a, axis):
    a = _as_tensor(a)
    if axis is None:  # NumPy: over the flattened array
        return op(_shape.reshape(a, (-1,)), 0)
    return op(a, axis)


@_register(np.cumsum, allowed=("axis",))
def _cumsum(a, axis=None):
    return _scan(_scan_ops.cumsum, a, axis)


@_register(np.cumprod, allowed=("axis",))
def _cumprod(a, axis=None):
    return _scan(_scan_ops.cumprod, a, axis)


@_register(np.einsum, allowed=("optimize",))
def _einsum(subscripts, *operands, optimize=False):
    # (optimize only chooses the order of the contractions, not the result)
    return _linalg.einsum(subscripts, *operands)


@_register(np.copy)
def _copy(a):
    return _elementwise.clone(_as_tensor(a))


@_register(np.dot)
def _dot(a, b):
    a, b = _as_tensor(a), _as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return _elementwise.mul(a, b)
    if b.ndim <= 2:
        return _linalg.matmul(a, b)
    raise TypeError("numpy.dot on tensors of more than 2 dimensions: use np.matmul (broadcasting batches)")


del _uf, _fn, _f
__all__ = ["HANDLED"]
