"""The op table for the core ops (everything in ``minigrad/ops`` but the fused layers, losses and bags).

One :class:`OpInfo` per user-facing op; ``functions`` names the ``Primitive``
classes it exercises, so ``test_op_table.py`` can fail when a Primitive has no
entry. Samples are float64 arrays drawn by Hypothesis, kept inside each op's
domain (``log`` of positives) and away from its kinks (``relu``/``abs`` at 0,
``clamp`` at the bounds, ties of ``max``), in every memory layout.
"""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.ops import elementwise as E
from minigrad.ops import indexing as I
from minigrad.ops import linalg as L
from minigrad.ops import reduction as R
from minigrad.ops import shape as S
from minigrad.ops._promotion import ToDtype
from minigrad.ops.embedding import Embedding
from minigrad.ops.softmax import LogSoftmax, Softmax
from minigrad.testing import strategies as mst
from opinfo import ErrorSample, OpInfo, Sample

A = mst.arrays
small = mst.shapes(0, 3, 1, 3)
nonscalar = mst.shapes(1, 3, 1, 3)


def one(shape=small, **kw):
    return A(shape, **kw).map(lambda x: Sample((x,)))


@st.composite
def two(draw, min_a=-3.0, max_a=3.0, min_b=-3.0, max_b=3.0, avoid_b=(), gap_b=1e-2):
    sa, sb = draw(mst.broadcast_shape_pairs(max_dims=3, max_side=3))
    a = draw(A(sa, min_value=min_a, max_value=max_a))
    b = draw(A(sb, min_value=min_b, max_value=max_b, avoid=avoid_b, gap=gap_b))
    return Sample((a, b))


@st.composite
def no_ties(draw):
    """Two broadcastable arrays that never tie: a on a grid, b on the grid shifted by half a step."""
    sa, sb = draw(mst.broadcast_shape_pairs(max_dims=3, max_side=3))
    grid = st.integers(-40, 40).map(lambda i: i / 16)
    a = draw(hnp.arrays(np.float64, sa, elements=grid))
    b = draw(hnp.arrays(np.float64, sb, elements=grid.map(lambda x: x + 1 / 32)))
    return Sample((a, b))


@st.composite
def reduce_samples(draw, distinct=False, min_side=1, min_dims=0, keepdim=True, require_dim=False):
    shape = draw(mst.shapes(min_dims, 3, min_side, 3))
    x = draw(A(shape, distinct=distinct, gap=1 / 8))
    kwargs = {}
    if x.ndim and (require_dim or draw(st.booleans())):
        dims = draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=x.ndim,
                             unique_by=lambda d: d % x.ndim))
        kwargs["dim"] = dims[0] if len(dims) == 1 and draw(st.booleans()) else tuple(dims)
        if keepdim:
            kwargs["keepdim"] = draw(st.booleans())
    elif require_dim:
        kwargs["dim"] = draw(st.sampled_from([0, -1]))
    return Sample((x,), kwargs)


@st.composite
def one_dim(draw, shape=nonscalar, distinct=False, keepdim=False, **kw):
    x = draw(A(shape, distinct=distinct, gap=1 / 8, **kw))
    kwargs = {"dim": draw(st.integers(-x.ndim, x.ndim - 1))}
    if keepdim:
        kwargs["keepdim"] = draw(st.booleans())
    return Sample((x,), kwargs)


@st.composite
def matmul_samples(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    da, db = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ba, bb = draw(mst.broadcast_shape_pairs(max_dims=2, max_side=2))
    sa = (k,) if da == 1 else tuple(ba[: da - 2]) + (n, k)
    sb = (k,) if db == 1 else tuple(bb[: db - 2]) + (k, m)
    return Sample((draw(A(sa)), draw(A(sb))))


@st.composite
def reshape_samples(draw):
    x = draw(A(small))
    options = [(-1,), (x.size,), x.shape[::-1], x.shape + (1,), (1,) + x.shape]
    if x.ndim >= 2:
        options.append((x.shape[0], -1))
    return Sample((x,), {"shape": draw(st.sampled_from(options))})


@st.composite
def flatten_samples(draw):
    x = draw(A(small))
    if x.ndim == 0:
        return Sample((x,))
    s = draw(st.integers(0, x.ndim - 1))
    e = draw(st.integers(s, x.ndim - 1))
    return Sample((x,), {"start_dim": s, "end_dim": e - x.ndim})


@st.composite
def unflatten_samples(draw):
    x = draw(A(small))
    if x.ndim == 0:
        x = x.reshape(1)
    d = draw(st.integers(0, x.ndim - 1))
    n = x.shape[d]
    split = draw(st.sampled_from([k for k in range(1, n + 1) if n % k == 0] or [1]))
    sizes = draw(st.sampled_from([(split, n // split), (-1, split) if split else (split, -1), (n,)]))
    return Sample((x,), {"dim": d - x.ndim if draw(st.booleans()) else d, "sizes": sizes})


@st.composite
def squeeze_samples(draw):
    x = draw(A(mst.shapes(1, 4, 1, 2)))
    if draw(st.booleans()):
        return Sample((x,))
    return Sample((x,), {"dim": draw(st.integers(-x.ndim, x.ndim - 1))})


@st.composite
def unsqueeze_samples(draw):
    x = draw(A(small))
    return Sample((x,), {"dim": draw(st.integers(-x.ndim - 1, x.ndim))})


@st.composite
def permute_samples(draw):
    x = draw(A(small))
    return Sample((x,), {"dims": tuple(draw(st.permutations(range(x.ndim))))})


@st.composite
def transpose_samples(draw):
    x = draw(A(nonscalar))
    return Sample((x,), {"dim0": draw(st.integers(-x.ndim, x.ndim - 1)), "dim1": draw(st.integers(-x.ndim, x.ndim - 1))})


@st.composite
def shape_broadcasting_to(draw, target):
    """A shape that broadcasts *to* ``target``: some leading dims dropped, some sizes 1."""
    keep = target[draw(st.integers(0, len(target))):]
    return tuple(1 if draw(st.booleans()) else n for n in keep)


@st.composite
def expand_samples(draw):
    target = draw(mst.shapes(0, 3, 1, 3))
    x = draw(A(shape_broadcasting_to(target)))
    sizes = list(target)
    lead = len(target) - x.ndim
    # -1 keeps a dimension as it is (PyTorch's expand convention).
    for i in range(x.ndim):
        if draw(st.booleans()):
            sizes[lead + i] = -1 if x.shape[i] == target[lead + i] else sizes[lead + i]
    return Sample((x,), {"sizes": tuple(sizes)})


@st.composite
def broadcast_samples(draw):
    target = draw(mst.shapes(0, 3, 1, 3))
    x = draw(A(shape_broadcasting_to(target)))
    return Sample((x,), {"shape": tuple(target)})


@st.composite
def cat_samples(draw):
    shape = list(draw(nonscalar))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        shape[dim] = draw(st.integers(0, 3))
        xs.append(draw(A(tuple(shape))))
    return Sample(tuple(xs), {"dim": dim})


@st.composite
def stack_samples(draw):
    shape = draw(small)
    xs = tuple(draw(A(shape)) for _ in range(draw(st.integers(1, 3))))
    return Sample(xs, {"dim": draw(st.integers(-len(shape) - 1, len(shape)))})


def _parts(draw, count):
    """Which of ``count`` pieces an entry joins, in order: repeats allowed and some left out,
    so that a piece may get no gradient, or the sum of two."""
    return draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=count + 1))


@st.composite
def split_samples(draw):
    x = draw(A(nonscalar))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    if draw(st.booleans()):
        size = draw(st.integers(1, n))
        return Sample((x, size), {"dim": dim, "parts": _parts(draw, -(-n // size))})
    cut = draw(st.integers(0, n))
    return Sample((x, [cut, n - cut]), {"dim": dim, "parts": _parts(draw, 2)})


@st.composite
def chunk_samples(draw):
    x = draw(A(nonscalar))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    chunks = draw(st.integers(1, 4))
    count = len(range(0, x.shape[dim], -(-x.shape[dim] // chunks)))
    return Sample((x, chunks), {"dim": dim, "parts": _parts(draw, count)})


@st.composite
def unbind_samples(draw):
    x = draw(A(nonscalar))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    return Sample((x,), {"dim": dim, "parts": _parts(draw, x.shape[dim])})


def pieces_op(lib, method, join):
    """``x.method(*args, **kwargs)``, its pieces ``parts`` joined into one tensor (``lib.cat`` or
    ``lib.stack`` along dim): one call of the op, whose outputs each get the gradient of their uses."""
    def op(x, *args, parts, **kwargs):
        pieces = getattr(x, method)(*args, **kwargs)
        return join([pieces[k] for k in parts], kwargs["dim"])
    return op


@st.composite
def basic_index(draw, shape):
    """An index of ints, positive-step slices, None and at most one Ellipsis (what PyTorch accepts)."""
    items, used_ellipsis = [], False
    dims = list(shape)
    while dims:
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis"]))
        n = dims[0]
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
            dims.pop(0)
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n, n))
            stop = draw(st.none() | st.integers(-n, n))
            items.append(slice(start, stop, draw(st.none() | st.integers(1, 2))))
            dims.pop(0)
        elif kind == "none":
            items.append(None)
        elif not used_ellipsis:
            used_ellipsis = True
            items.append(Ellipsis)
            dims = dims[draw(st.integers(0, len(dims))):]
        if draw(st.integers(0, 3)) == 0:
            break
    return tuple(items) if len(items) != 1 or draw(st.booleans()) else items[0]


@st.composite
def getitem_samples(draw):
    x = draw(A(nonscalar))
    kind = draw(st.sampled_from(["basic", "int_array", "int_array_dim1", "bool_mask"]))
    if kind == "basic":
        return Sample((x,), {"index": draw(basic_index(x.shape))})
    if kind == "bool_mask":
        k = draw(st.integers(1, x.ndim))
        mask = draw(hnp.arrays(np.bool_, x.shape[:k]))
        return Sample((x, mask), {"how": "array"})
    axis = 0 if kind == "int_array" or x.ndim == 1 else 1
    n = x.shape[axis]
    # Many repeats: their gradients must accumulate (index-add), not overwrite.
    idx = draw(hnp.arrays(np.int64, draw(mst.shapes(0, 2, 1, 5)), elements=st.integers(-n, n - 1)))
    return Sample((x, idx), {"how": "array" if axis == 0 else "array_dim1"})


def getitem_op(lib):
    def op(x, idx=None, index=None, how=None):
        if how == "array":
            return x[idx]
        if how == "array_dim1":
            return x[:, idx]
        return x[index]

    return op


@st.composite
def setitem_samples(draw):
    x = draw(A(nonscalar))
    if draw(st.booleans()):
        index = draw(basic_index(x.shape))
        target_shape = x[index].shape
    else:  # unique integer rows (PyTorch leaves duplicates' winner unspecified)
        rows = draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=x.shape[0], unique=True))
        index = np.array(rows)
        target_shape = x[index].shape
    v = draw(A(shape_broadcasting_to(target_shape)))
    return Sample((x, v), {"index": index})


def setitem_op(x, v, index):
    y = x * 1  # a non-leaf copy, as in-place writes into a leaf that requires grad are an error
    y[index] = v * 1 if isinstance(v, (torch.Tensor, minigrad.Tensor)) else v
    return y


@st.composite
def embedding_samples(draw):
    V, D = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    w = draw(A((V, D)))
    idx = draw(hnp.arrays(np.int64, draw(mst.shapes(0, 2, 0, 5)), elements=st.integers(0, V - 1)))
    return Sample((idx, w))


@st.composite
def gather_samples(draw):
    V, D = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    idx = draw(hnp.arrays(np.int64, draw(mst.shapes(0, 2, 0, 5)), elements=st.integers(0, V - 1)))
    return Sample((draw(A((V, D))), idx))


@st.composite
def index_add_samples(draw):
    V, D = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    # Many repeats: the rows must accumulate.
    idx = draw(hnp.arrays(np.int64, draw(mst.shapes(1, 1, 0, 6)), elements=st.integers(0, V - 1)))
    return Sample((draw(A(idx.shape + (D,))), idx), {"num_rows": V})


def _torch_index_add(src, idx, num_rows):
    return torch.zeros(num_rows, src.shape[-1], dtype=src.dtype).index_add(0, idx, src)


@st.composite
def index_put_accumulate_samples(draw):
    shape = draw(mst.shapes(1, 3, 1, 4))
    n = shape[0]
    idx = draw(hnp.arrays(np.int64, draw(mst.shapes(1, 2, 1, 5)), elements=st.integers(-n, n - 1)))
    return Sample((draw(A(idx.shape + shape[1:])), idx), {"shape": shape})


def _torch_index_put_accumulate(src, idx, shape):
    return torch.zeros(shape, dtype=src.dtype).index_put((idx,), src, accumulate=True)


@st.composite
def where_samples(draw):
    sc, sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3)).input_shapes
    return Sample((draw(hnp.arrays(np.bool_, sc)), draw(A(sa)), draw(A(sb))))


@st.composite
def clamp_samples(draw):
    lo, hi = draw(st.sampled_from([(-1.0, None), (None, 0.5), (-0.5, 1.0), (0.0, 0.0)]))
    avoid = tuple(v for v in (lo, hi) if v is not None)
    x = draw(A(small, avoid=avoid, gap=0.05))
    return Sample((x,), {"min": lo, "max": hi})


@st.composite
def pow_samples(draw):
    kind = draw(st.sampled_from(["tensors", "int_exponent", "float_exponent", "scalar_base"]))
    if kind == "tensors":
        # (not b = 0: there PyTorch's second derivative in (a, b) is 0, the true one 1/a)
        return draw(two(min_a=0.2, max_a=3.0, min_b=-2.0, max_b=2.0, avoid_b=(0.0,)))
    if kind == "int_exponent":
        return Sample((draw(A(small)), draw(st.sampled_from([0, 1, 2, 3, -1]))), grad_args=(0,))
    if kind == "float_exponent":
        return Sample((draw(A(small, min_value=0.2)), draw(st.sampled_from([0.5, -1.5, 2.5]))), grad_args=(0,))
    return Sample((draw(st.sampled_from([2.0, 0.5])), draw(A(small))), grad_args=(1,))


def _pow_ints_safe(samples):
    """Negative integer powers of values near 0 blow up; keep the base away from 0 for them."""
    return samples.filter(
        lambda s: not (isinstance(s.args[1], int) and s.args[1] < 0 and np.any(np.abs(s.args[0]) < 0.2))
    )


def var_ref(x, dim=None, correction=1, keepdim=False):
    return torch.var(x, dim=dim, correction=correction, keepdim=keepdim)


@st.composite
def var_samples(draw):
    s = draw(reduce_samples(min_side=2, min_dims=1, distinct=True))  # distinct: std > 0
    return Sample(s.args, dict(s.kwargs, correction=draw(st.sampled_from([0, 1]))))


def _longdouble_round_trip(x):
    return x.to(np.longdouble).double()


def _e(*args, error=Exception, match="", **kwargs):
    return ErrorSample(args, kwargs, error, match)


BROADCAST = "must match the size of tensor b"

OPS = [
    # -- elementwise ---------------------------------------------------------------
    OpInfo("add", lambda a, b: a + b, lambda a, b: a + b, lambda: two(), (E.Add,),
           lambda: [_e(np.ones((2, 3)), np.ones(4), error=RuntimeError, match=BROADCAST)]),
    OpInfo("add_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, lambda: one(), (E.Add,)),
    OpInfo("sub", lambda a, b: a - b, lambda a, b: a - b, lambda: two(), (E.Sub,),
           lambda: [_e(np.ones((2, 3)), np.ones((3, 2)), error=RuntimeError, match=BROADCAST)]),
    OpInfo("rsub_scalar", lambda a: 1.5 - a, lambda a: 1.5 - a, lambda: one(), (E.Sub,)),
    OpInfo("mul", lambda a, b: a * b, lambda a, b: a * b, lambda: two(), (E.Mul,),
           lambda: [_e(np.ones((2, 3)), np.ones(4), error=RuntimeError, match=BROADCAST)]),
    OpInfo("div", lambda a, b: a / b, lambda a, b: a / b, lambda: two(avoid_b=(0.0,), gap_b=0.5), (E.Div,),
           lambda: [_e(np.ones((2, 3)), np.ones(4), error=RuntimeError, match=BROADCAST)]),
    OpInfo("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, lambda: one(avoid=(0.0,), gap=0.5), (E.Div,)),
    OpInfo("neg", lambda a: -a, lambda a: -a, lambda: one(), (E.Neg,)),
    OpInfo("pow", lambda a, b: a ** b, lambda a, b: a ** b, lambda: _pow_ints_safe(pow_samples()), (E.Pow,),
           lambda: [_e(np.ones((2, 3)), np.ones(4), error=RuntimeError, match=BROADCAST)]),
    OpInfo("exp", minigrad.exp, torch.exp, lambda: one(), (E.Exp,)),
    OpInfo("log", minigrad.log, torch.log, lambda: one(min_value=0.1), (E.Log,)),
    OpInfo("sqrt", minigrad.sqrt, torch.sqrt, lambda: one(min_value=0.1), (E.Sqrt,)),
    OpInfo("abs", minigrad.abs, torch.abs, lambda: one(avoid=(0.0,)), (E.Abs,)),
    OpInfo("tanh", minigrad.tanh, torch.tanh, lambda: one(), (E.Tanh,)),
    OpInfo("sin", minigrad.sin, torch.sin, lambda: one(), (E.Sin,)),
    OpInfo("cos", minigrad.cos, torch.cos, lambda: one(), (E.Cos,)),
    OpInfo("erf", lambda x: E.Erf.apply(x), torch.erf, lambda: one(), (E.Erf,)),
    OpInfo("sigmoid", minigrad.sigmoid, torch.sigmoid, lambda: one(min_value=-8, max_value=8), (E.Sigmoid,)),
    OpInfo("relu", minigrad.relu, torch.relu, lambda: one(avoid=(0.0,)), (E.ReLU,)),
    OpInfo("clamp", minigrad.clamp, torch.clamp, clamp_samples, (E.Clamp,),
           lambda: [_e(np.ones(3), error=RuntimeError, match="At least one of 'min' or 'max'")]),
    OpInfo("maximum", minigrad.maximum, torch.maximum, no_ties, (E.Maximum,),
           lambda: [_e(np.ones((2, 3)), np.ones(4), error=RuntimeError, match=BROADCAST)]),
    OpInfo("minimum", minigrad.minimum, torch.minimum, no_ties, (E.Minimum,),
           lambda: [_e(np.ones((2, 3)), np.ones(4), error=RuntimeError, match=BROADCAST)]),
    OpInfo("where", minigrad.where, torch.where, where_samples, (E.Where,),
           lambda: [_e(np.ones((2, 3), bool), np.ones((2, 3)), np.ones(4), error=RuntimeError, match=BROADCAST)]),
    OpInfo("to_dtype", _longdouble_round_trip, lambda x: x.double(), lambda: one(), (ToDtype,)),
    OpInfo("clone", minigrad.clone, torch.clone, lambda: one(), (E.Clone,)),
    # -- reductions ----------------------------------------------------------------
    OpInfo("sum", minigrad.sum, torch.sum, reduce_samples, (R.Sum,),
           lambda: [_e(np.ones((2, 3)), dim=2, error=IndexError, match="Dimension out of range"),
                    _e(np.ones((2, 3)), dim=(0, 0), error=RuntimeError, match="multiple times")]),
    OpInfo("mean", minigrad.mean, torch.mean, reduce_samples, (R.Mean,),
           lambda: [_e(np.ones((2, 3), dtype=np.int64), error=RuntimeError, match="floating point"),
                    _e(np.ones((2, 3)), dim=-3, error=IndexError, match="Dimension out of range")]),
    OpInfo("max", lambda x: x.max(), lambda x: x.max(), lambda: one(distinct=True, gap=1 / 8), (R.Amax,),
           lambda: [_e(np.ones((0, 3)), error=RuntimeError, match="numel")]),
    OpInfo("min", lambda x: x.min(), lambda x: x.min(), lambda: one(distinct=True, gap=1 / 8), (R.Amin,),
           lambda: [_e(np.ones((0, 3)), error=RuntimeError, match="numel")]),
    OpInfo("amax", minigrad.amax, torch.amax, lambda: reduce_samples(distinct=True), (R.Amax,)),
    OpInfo("amin", minigrad.amin, torch.amin, lambda: reduce_samples(distinct=True), (R.Amin,)),
    # Ties: PyTorch shares the gradient equally among the maxima (max()/amax). Not
    # differentiable there, so compared with PyTorch only.
    OpInfo("max_ties", lambda x: x.max(), lambda x: x.max(),
           lambda: st.just(Sample((np.array([[1.0, 3.0], [3.0, -2.0]]),))), (R.Amax,), gradcheck=False),
    OpInfo("max_dim", lambda x, **kw: minigrad.max(x, **kw).values, lambda x, **kw: torch.max(x, **kw).values,
           lambda: one_dim(distinct=True, keepdim=True), (R.MaxDim,),
           lambda: [_e(np.ones((2, 3)), dim=2, error=IndexError, match="Dimension out of range")]),
    OpInfo("min_dim", lambda x, **kw: minigrad.min(x, **kw).values, lambda x, **kw: torch.min(x, **kw).values,
           lambda: one_dim(distinct=True, keepdim=True), (R.MaxDim,)),
    OpInfo("var", minigrad.var, var_ref, var_samples, (R.Var,)),
    OpInfo("std", minigrad.std, lambda x, **kw: torch.std(x, **kw), var_samples, (R.Std,)),
    OpInfo("logsumexp", minigrad.logsumexp, torch.logsumexp, lambda: reduce_samples(require_dim=True),
           (R.LogSumExp,), lambda: [_e(np.ones((2, 3)), dim=3, error=IndexError, match="Dimension out of range")]),
    OpInfo("softmax", minigrad.softmax, torch.softmax, one_dim, (Softmax,),
           lambda: [_e(np.ones((2, 3)), dim=2, error=IndexError, match="Dimension out of range")]),
    OpInfo("log_softmax", minigrad.log_softmax, torch.log_softmax, one_dim, (LogSoftmax,),
           lambda: [_e(np.ones((2, 3)), dim=-3, error=IndexError, match="Dimension out of range")]),
    # -- linear algebra ------------------------------------------------------------
    OpInfo("matmul", minigrad.matmul, torch.matmul, matmul_samples, (L.MatMul,),
           lambda: [_e(np.ones((2, 3)), np.ones((4, 5)), error=RuntimeError, match=r"cannot be multiplied \(2x3 and 4x5\)"),
                    _e(np.ones(()), np.ones(3), error=RuntimeError, match="at least 1D")]),
    # -- shape ---------------------------------------------------------------------
    OpInfo("reshape", minigrad.reshape, torch.reshape, reshape_samples, (S.Reshape,),
           lambda: [_e(np.ones((2, 3)), shape=(4,), error=RuntimeError, match="is invalid for input of size 6")]),
    OpInfo("view", lambda x, shape: x.view(shape), lambda x, shape: x.view(shape), reshape_samples, (S.Reshape,)),
    OpInfo("flatten", minigrad.flatten, torch.flatten, flatten_samples, (S.Reshape,),
           lambda: [_e(np.ones((2, 3)), start_dim=1, end_dim=0, error=RuntimeError, match="start_dim cannot come after end_dim")]),
    OpInfo("unflatten", minigrad.unflatten, torch.unflatten, unflatten_samples, (S.Reshape,),
           lambda: [_e(np.ones((2, 6)), dim=1, sizes=(4, 2), error=RuntimeError, match="don't multiply up")]),
    OpInfo("squeeze", minigrad.squeeze, torch.squeeze, squeeze_samples, (S.Reshape,)),
    OpInfo("unsqueeze", minigrad.unsqueeze, torch.unsqueeze, unsqueeze_samples, (S.Reshape,),
           lambda: [_e(np.ones((2, 3)), dim=3, error=IndexError, match="Dimension out of range")]),
    OpInfo("permute", minigrad.permute, torch.permute, permute_samples, (S.Permute,),
           lambda: [_e(np.ones((2, 3)), dims=(0,), error=RuntimeError, match="number of dimensions"),
                    _e(np.ones((2, 3)), dims=(1, 1), error=RuntimeError, match="duplicate dims")]),
    OpInfo("transpose", minigrad.transpose, torch.transpose, transpose_samples, (S.Permute,)),
    OpInfo("T", lambda x: x.T, lambda x: x.permute(tuple(range(x.ndim))[::-1]), lambda: one(), (S.Permute,)),
    OpInfo("expand", lambda x, sizes: x.expand(sizes), lambda x, sizes: x.expand(sizes), expand_samples, (S.Expand,),
           lambda: [_e(np.ones((2, 3)), sizes=(2, 4), error=RuntimeError, match="must match the existing size"),
                    _e(np.ones((2, 3)), sizes=(3,), error=RuntimeError, match="number of sizes")]),
    OpInfo("broadcast_to", lambda x, shape: x.broadcast_to(shape),
           lambda x, shape: torch.broadcast_to(x, shape), broadcast_samples, (S.Expand,)),
    OpInfo("cat", lambda *xs, dim: minigrad.cat(xs, dim), lambda *xs, dim: torch.cat(xs, dim), cat_samples, (S.Cat,),
           lambda: [_e(np.ones((2, 3)), np.ones((2, 4)), dim=0, error=RuntimeError, match="Sizes of tensors must match"),
                    _e(np.ones(()), np.ones(()), dim=0, error=RuntimeError, match="zero-dimensional")]),
    OpInfo("stack", lambda *xs, dim: minigrad.stack(xs, dim), lambda *xs, dim: torch.stack(xs, dim), stack_samples, (S.Stack,),
           lambda: [_e(np.ones((2, 3)), np.ones((3, 2)), dim=0, error=RuntimeError, match="equal size")]),
    # split, chunk, unbind: several outputs, from one node
    OpInfo("split", pieces_op(minigrad, "split", minigrad.cat), pieces_op(torch, "split", torch.cat), split_samples,
           (S.Split, S.SplitWithSizes, S.Cat),
           lambda: [_e(np.ones((2, 3)), [1, 1], dim=1, parts=[0], error=RuntimeError, match="sum exactly to 3"),
                    _e(np.ones((2, 3)), [4, -1], dim=1, parts=[0], error=RuntimeError, match="only non-negative entries"),
                    _e(np.ones((2, 3)), 0, dim=1, parts=[0], error=RuntimeError, match="split_size can only be 0"),
                    _e(np.ones(()), 1, dim=0, parts=[0], error=RuntimeError, match="at least a 1-dimensional")]),
    OpInfo("chunk", pieces_op(minigrad, "chunk", minigrad.cat), pieces_op(torch, "chunk", torch.cat), chunk_samples,
           (S.Split, S.Cat),
           lambda: [_e(np.ones((2, 3)), 0, dim=1, parts=[0], error=RuntimeError, match="greater than 0")]),
    OpInfo("unbind", pieces_op(minigrad, "unbind", minigrad.stack), pieces_op(torch, "unbind", torch.stack),
           unbind_samples, (S.Unbind, S.Stack),
           lambda: [_e(np.ones(()), dim=0, parts=[0], error=IndexError, match="no dimensions"),
                    _e(np.ones((2, 3)), dim=2, parts=[0], error=IndexError, match="Dimension out of range")]),
    # -- indexing ------------------------------------------------------------------
    OpInfo("getitem", getitem_op(minigrad), getitem_op(torch), getitem_samples, (I.GetItem,),
           lambda: [_e(np.ones((2, 3)), index=(0, 3), error=IndexError, match="out of bounds"),
                    _e(np.ones((2, 3)), np.array([0, 2]), how="array", error=IndexError, match="out of bounds")]),
    OpInfo("setitem", setitem_op, setitem_op, setitem_samples, (I.IndexPut,)),
    OpInfo("gather", lambda w, idx: I.Gather.apply(w, idx), lambda w, idx: w[idx], gather_samples, (I.Gather,)),
    OpInfo("kernel_index_add", lambda src, idx, num_rows: I.IndexAdd.apply(src, idx, num_rows), _torch_index_add,
           index_add_samples, (I.IndexAdd,)),
    OpInfo("index_put_accumulate", lambda src, idx, shape: I.IndexPutAccumulate.apply(src, idx, shape),
           _torch_index_put_accumulate, index_put_accumulate_samples, (I.IndexPutAccumulate,)),
    # Samples are (indices, weight), F.embedding's order; the top-level function takes torch.embedding's.
    OpInfo("embedding", lambda idx, w: minigrad.embedding(w, idx), lambda idx, w: torch.embedding(w, idx),
           embedding_samples, (Embedding,),
           lambda: [_e(np.array([0, 3]), np.ones((3, 2)), error=IndexError, match="out of range"),
                    _e(np.array([-1]), np.ones((3, 2)), error=IndexError, match="out of range"),
                    _e(np.array([0.0]), np.ones((3, 2)), error=RuntimeError, match="'indices'")]),
]

# The window ops of minigrad.ops.conv (im2col, col2im, window max) are core Primitives: their
# entries sit with the other convolution entries in op_table_conv.py and are listed here too.
from op_table_conv import CORE_OPS as _CONV_CORE_OPS  # noqa: E402

OPS += _CONV_CORE_OPS

# The gather/scatter family, sorting, scans and the named products (op_table_more_core.py).
from op_table_more_core import CORE_OPS as _MORE_CORE_OPS  # noqa: E402

OPS += _MORE_CORE_OPS
