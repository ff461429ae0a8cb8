"""Op-table entries for the core ops PyTorch programs reach for beyond the basics:
the gather/scatter family, sorting, scans, the named matrix products, more unary math
and the remainders.

They are core ops: ``op_table_core.py`` adds :data:`CORE_OPS` to its table (this
file's own ``OPS`` is empty, so nothing runs twice). Indices are drawn with many
repeats where the op accumulates (gather, index_select, index_add, scatter_add) and
unique where it writes (scatter), since PyTorch leaves the winner of a repeated
write unspecified.
"""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.ops import indexing as I
from minigrad.ops import linalg as L
from minigrad.ops import scan as C
from minigrad.ops import shape as S
from minigrad.ops import elementwise as E
from minigrad.ops import reduction as R
from minigrad.testing import strategies as mst
from opinfo import ErrorSample, OpInfo, Sample

A = mst.arrays
nonscalar = mst.shapes(1, 3, 1, 3)


def _e(*args, error=Exception, match="", **kwargs):
    return ErrorSample(args, kwargs, error, match)


def _ints(shape, high):
    return hnp.arrays(np.int64, shape, elements=st.integers(0, high - 1))


@st.composite
def gather_dim_samples(draw):
    x = draw(A(nonscalar))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    d = dim % x.ndim
    shape = tuple(draw(st.integers(0 if i == d else 1, 4 if i == d else n)) for i, n in enumerate(x.shape))
    return Sample((x, dim, draw(_ints(shape, x.shape[d]))))


@st.composite
def scatter_add_samples(draw):
    s = draw(gather_dim_samples())
    x, dim, idx = s.args
    # src of index's shape: PyTorch 2.13's backward fails for a larger src (its gradient has
    # index's shape); a larger src's forward is compared in test_gather_scatter.py.
    return Sample((x, dim, idx, draw(A(idx.shape))))


@st.composite
def scatter_samples(draw, value=False):
    """Unique positions along dim in every slice: the first k of a permutation per slice."""
    x = draw(A(nonscalar))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    d = dim % x.ndim
    n = x.shape[d]
    k = draw(st.integers(0, n))
    keys = draw(hnp.arrays(np.float64, x.shape, elements=st.floats(0, 1), unique=True))
    idx = np.take(np.argsort(keys, axis=d), np.arange(k), axis=d)
    idx = idx[tuple(slice(0, draw(st.integers(1, m))) if i != d else slice(None) for i, m in enumerate(idx.shape))]
    if value:
        return Sample((x, dim, idx, draw(st.sampled_from([1.5, -2.0]))))
    return Sample((x, dim, idx, draw(A(idx.shape))))


@st.composite
def index_select_samples(draw):
    x = draw(A(nonscalar))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    idx = draw(_ints(draw(st.sampled_from([(), (0,), (1,), (3,), (5,)])), n))
    return Sample((x, dim, idx))


@st.composite
def index_add_samples(draw):
    x = draw(A(nonscalar))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    d = dim % x.ndim
    k = draw(st.integers(0, 5))
    idx = draw(_ints((k,), x.shape[d]))
    source = draw(A(x.shape[:d] + (k,) + x.shape[d + 1:]))
    return Sample((x, dim, idx, source), {"alpha": draw(st.sampled_from([1, 2.5]))})


@st.composite
def sort_samples(draw):
    x = draw(A(mst.shapes(0, 3, 1, 4), distinct=True, gap=1 / 8))
    kw = {"descending": draw(st.booleans())}
    if x.ndim and draw(st.booleans()):
        kw["dim"] = draw(st.integers(-x.ndim, x.ndim - 1))
    return Sample((x,), kw)


@st.composite
def topk_samples(draw):
    x = draw(A(mst.shapes(0, 3, 1, 4), distinct=True, gap=1 / 8))
    dim = draw(st.integers(-x.ndim, x.ndim - 1)) if x.ndim else 0
    size = x.shape[dim] if x.ndim else 1
    return Sample((x, draw(st.integers(0, size))), {"dim": dim, "largest": draw(st.booleans())})


@st.composite
def scan_samples(draw, zeros=False):
    shape = draw(mst.shapes(0, 3, 1, 4))
    if zeros:  # exact zeros, sometimes several in a slice: the product's gradient must stay exact
        elems = st.sampled_from([0.0, 0.0, 0.5, -1.5, 2.0, 1.25, -0.75])
        x = draw(hnp.arrays(np.float64, shape, elements=elems))
    else:  # away from 0, where the quotient formula's second derivative needs x² to stay finite
        x = draw(A(shape, avoid=(0.0,), gap=0.1))
    dim = draw(st.integers(-x.ndim, x.ndim - 1)) if x.ndim else draw(st.sampled_from([0, -1]))
    return Sample((x, dim))


@st.composite
def mm_samples(draw, batch=False):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    lead = (draw(st.integers(1, 3)),) if batch else ()
    return Sample((draw(A(lead + (n, k))), draw(A(lead + (k, m)))))


@st.composite
def addmm_samples(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    inp = draw(A(draw(st.sampled_from([(n, m), (m,), (1, m), (n, 1), ()]))))
    beta, alpha = draw(st.sampled_from([(1, 1), (0.5, 2.0), (0, 1.5)]))
    return Sample((inp, draw(A((n, k))), draw(A((k, m)))), {"beta": beta, "alpha": alpha})


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 2)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ij,ij->i", [(2, 3), (2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 1)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij,j->i", [(2, 3), (3,)]),
    ("ij->", [(2, 3)]),
    ("ijk->kji", [(2, 3, 1)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ij,jk,ik->j", [(2, 3), (3, 2), (2, 2)]),
    ("ik,jk->ijk", [(2, 3), (1, 3)]),
]


@st.composite
def einsum_samples(draw):
    eq, shapes = draw(st.sampled_from(EINSUMS))
    return Sample((eq,) + tuple(draw(A(s)) for s in shapes))


def _one(**kw):
    return A(mst.shapes(0, 3, 1, 3), **kw).map(lambda x: Sample((x,)))


# Away from the jumps of the rounding functions (integers; halves for round).
INTEGERS = tuple(float(k) for k in range(-3, 4))
HALVES = tuple(k + 0.5 for k in range(-4, 4))


@st.composite
def round_decimals_samples(draw):
    x = draw(A(mst.shapes(0, 3, 1, 3), avoid=tuple(k / 10 + 0.05 for k in range(-31, 31)), gap=0.01))
    return Sample((x,), {"decimals": 1})


@st.composite
def nan_to_num_samples(draw, finite=False):
    elems = st.floats(-3, 3) if finite else st.sampled_from([np.nan, np.inf, -np.inf]) | st.floats(-3, 3)
    x = draw(hnp.arrays(np.float64, mst.shapes(0, 3, 1, 3), elements=elems))
    kw = draw(st.sampled_from([{}, {"nan": 1.5, "posinf": 9.0, "neginf": -9.0}]))
    return Sample((x,), kw)


@st.composite
def modulo_samples(draw, grad=True):
    """a and b with a/b away from integers (where the quotient's floor or trunc jumps)."""
    sa, sb = draw(mst.broadcast_shape_pairs(max_dims=2, max_side=3))
    a = draw(A(sa, min_value=-5, max_value=5))
    b = draw(A(sb, min_value=0.4, max_value=2.5))
    b = np.asarray(b * draw(hnp.arrays(np.float64, sb, elements=st.sampled_from([-1.0, 1.0]))))
    q = np.broadcast_to(a, np.broadcast_shapes(sa, sb)) / b
    if np.any(np.abs(q - np.round(q)) < 0.05):
        from hypothesis import assume
        assume(False)
    return Sample((a, b), grad_args=None if grad else ())


@st.composite
def flip_samples(draw):
    x = draw(A(nonscalar))
    dims = draw(st.lists(st.integers(-x.ndim, x.ndim - 1), max_size=x.ndim, unique_by=lambda d: d % x.ndim))
    return Sample((x, dims))


@st.composite
def roll_samples(draw):
    x = draw(A(nonscalar))
    if draw(st.booleans()):
        return Sample((x, draw(st.integers(-5, 5))))
    dims = draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=x.ndim, unique_by=lambda d: d % x.ndim))
    return Sample((x, tuple(draw(st.integers(-5, 5)) for _ in dims), tuple(dims)))


@st.composite
def narrow_samples(draw):
    x = draw(A(nonscalar))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    start = draw(st.integers(-n, n))
    length = draw(st.integers(0, n - (start % n if start < 0 else start) if start < n else 0))
    return Sample((x, dim, start, length))


@st.composite
def repeat_samples(draw):
    x = draw(A(mst.shapes(0, 2, 1, 3)))
    sizes = tuple(draw(st.integers(0, 3)) for _ in range(max(1, x.ndim + draw(st.integers(0, 1)))))
    return Sample((x,) + sizes)


@st.composite
def repeat_interleave_samples(draw):
    x = draw(A(mst.shapes(0, 2, 1, 3)))
    if x.ndim and draw(st.booleans()):
        dim = draw(st.integers(-x.ndim, x.ndim - 1))
        repeats = draw(st.integers(0, 3)) if draw(st.booleans()) else draw(_ints((x.shape[dim],), 4))
        return Sample((x, repeats), {"dim": dim})
    return Sample((x, draw(st.integers(0, 3))))


@st.composite
def diag_samples(draw):
    x = draw(A(draw(st.sampled_from([(1,), (3,), (2, 3), (3, 3), (3, 1)]))))
    return Sample((x,), {"diagonal": draw(st.integers(-2, 2))})


@st.composite
def outer_samples(draw):
    return Sample((draw(A((draw(st.integers(1, 3)),))), draw(A((draw(st.integers(1, 3)),)))))


@st.composite
def norm_samples(draw, linalg=False):
    x = draw(A(mst.shapes(1, 3, 1, 3), avoid=(0.0,), gap=0.1, distinct=True))
    kw = {}
    if draw(st.booleans()):
        kw["dim"] = draw(st.integers(-x.ndim, x.ndim - 1))
        kw["keepdim"] = draw(st.booleans())
    if linalg:
        if "dim" in kw or x.ndim == 1:
            kw["ord"] = draw(st.sampled_from([None, 1, 2, 3.5, float("inf"), float("-inf")]))
        elif x.ndim == 2:
            kw["ord"] = draw(st.sampled_from([None, "fro"]))
    else:
        kw["p"] = draw(st.sampled_from(["fro", 1, 2, 3.5, float("inf")]))
    return Sample((x,), kw)


def _values(f):
    return lambda *a, **kw: f(*a, **kw).values


SORT_NOTE = "values of distinct elements: with ties PyTorch's order of equal elements (and so the gradient) may differ"

CORE_OPS = [
    # -- gather / scatter ------------------------------------------------------------
    OpInfo("torch.gather", minigrad.gather, torch.gather, gather_dim_samples, (I.Gather, S.Reshape),
           lambda: [_e(np.ones((2, 3)), 1, np.array([[0, 5]]), error=RuntimeError, match="index 5 is out of bounds for dimension 1 with size 3"),
                    _e(np.ones((2, 3)), 1, np.array([[0, -1]]), error=RuntimeError, match="index -1 is out of bounds"),
                    _e(np.ones((2, 3)), 1, np.array([0, 1]), error=RuntimeError, match="same number of dimensions"),
                    _e(np.ones((2, 3)), 1, np.array([[0, 1]] * 3), error=RuntimeError, match=r"expected index \[3, 2\] to be no larger than self \[2, 3\] apart from dimension 1"),
                    _e(np.ones((2, 3)), 1, np.array([[0.0, 1.0]]), error=RuntimeError, match="Expected dtype int32/int64 for index")]),
    OpInfo("scatter_add", minigrad.scatter_add, torch.scatter_add, scatter_add_samples, (I.IndexAdd, E.Add),
           lambda: [_e(np.ones((2, 3)), 1, np.array([[0, 3]]), np.ones((2, 3)), error=RuntimeError, match="index 3 is out of bounds"),
                    _e(np.ones((2, 3)), 1, np.array([[0, 1, 2]]), np.ones((1, 2)), error=RuntimeError, match="no larger size than src"),
                    _e(np.ones((2, 3)), 1, np.array([[0, 1]]), np.ones((2, 3), np.float32), error=RuntimeError, match="self.dtype to be equal to src.dtype")]),
    OpInfo("scatter", minigrad.scatter, torch.scatter, scatter_samples, (I.IndexPut,),
           lambda: [_e(np.ones((2, 3)), 1, np.array([[0, 5]]), np.ones((2, 3)), error=RuntimeError, match="index 5 is out of bounds"),
                    _e(np.ones((2, 3)), 1, np.array([[0, 1]]), np.ones((2, 3), np.float32), error=RuntimeError, match="self.dtype to be equal to src.dtype")]),
    OpInfo("scatter_value", minigrad.scatter, torch.scatter, lambda: scatter_samples(value=True), (I.IndexPut,)),
    OpInfo("index_select", minigrad.index_select, torch.index_select, index_select_samples, (I.Gather, S.Permute),
           lambda: [_e(np.ones((2, 3)), 1, np.array([0, 5]), error=RuntimeError, match="out of DATA bounds, id=5 axis_dim=3"),
                    _e(np.ones((2, 3)), 1, np.array([[0, 1]]), error=IndexError, match="Index is supposed to be a vector"),
                    _e(np.ones((2, 3)), 1, np.array([0.0]), error=RuntimeError, match="Expected dtype int32 or int64 for index")]),
    OpInfo("index_add", minigrad.index_add, torch.index_add, index_add_samples, (I.IndexAdd, E.Add, E.Mul),
           lambda: [_e(np.ones((2, 3)), 1, np.array([0, 5]), np.ones((2, 2)), error=RuntimeError, match="index 5 is out of bounds for dimension 1 with size 3"),
                    _e(np.ones((2, 3)), 1, np.array([0, 1]), np.ones((2, 3)), error=RuntimeError, match=r"Number of indices \(2\) should be equal to source.size\(dim\): \(3\), for dim: 1"),
                    _e(np.ones((2, 3)), 1, np.array([0, 1]), np.ones((3, 2)), error=RuntimeError, match="source tensor shape must match self tensor shape"),
                    _e(np.ones((2, 3)), 1, np.array([0, 1]), np.ones((2, 2), np.float32), error=RuntimeError, match=r"self \(Double\) and source \(Float\) must have the same scalar type")]),
    # -- sorting ---------------------------------------------------------------------
    OpInfo("sort", _values(minigrad.sort), _values(torch.sort), sort_samples, (I.Gather,),
           lambda: [_e(np.ones((2, 3)), dim=2, error=IndexError, match="Dimension out of range")]),
    OpInfo("topk", _values(minigrad.topk), _values(torch.topk), topk_samples, (I.Gather,),
           lambda: [_e(np.ones(3), 4, error=RuntimeError, match="selected index k out of range"),
                    _e(np.ones(3), -1, error=RuntimeError, match="selected index k out of range")]),
    # -- scans -----------------------------------------------------------------------
    OpInfo("cumsum", minigrad.cumsum, torch.cumsum, scan_samples, (C.Cumsum,),
           lambda: [_e(np.ones((2, 3)), 2, error=IndexError, match="Dimension out of range")]),
    OpInfo("cumprod", minigrad.cumprod, torch.cumprod, scan_samples, (C.Cumprod,)),
    OpInfo("cumprod_zeros", minigrad.cumprod, torch.cumprod, lambda: scan_samples(zeros=True), (C.Cumprod,)),
    # -- products --------------------------------------------------------------------
    OpInfo("mm", minigrad.mm, torch.mm, mm_samples, (L.MatMul,),
           lambda: [_e(np.ones((2, 3)), np.ones((2, 3)), error=RuntimeError, match=r"cannot be multiplied \(2x3 and 2x3\)"),
                    _e(np.ones(3), np.ones((3, 2)), error=RuntimeError, match="self must be a matrix"),
                    _e(np.ones((2, 3)), np.ones((3, 2), np.float32), error=RuntimeError, match="double != float")]),
    OpInfo("bmm", minigrad.bmm, torch.bmm, lambda: mm_samples(batch=True), (L.MatMul,),
           lambda: [_e(np.ones((2, 3)), np.ones((2, 3)), error=RuntimeError, match="batch1 must be a 3D tensor"),
                    _e(np.ones((1, 2, 3)), np.ones((2, 3, 2)), error=RuntimeError,
                       match=r"Expected size for first two dimensions of batch2 tensor to be: \[1, 3\] but got: \[2, 3\]")]),
    OpInfo("addmm", minigrad.addmm, torch.addmm, addmm_samples, (L.MatMul, E.Add, E.Mul),
           lambda: [_e(np.ones(2), np.ones((3, 2)), np.ones((2, 3)), error=RuntimeError, match="must match the existing size")]),
    OpInfo("einsum", minigrad.einsum, torch.einsum, einsum_samples, (L.Einsum,),
           lambda: [_e("ij,jk->ik", np.ones((2, 3)), np.ones((2, 3)), error=RuntimeError, match="subscript j has size 2 for operand 1"),
                    _e("ij->iq", np.ones((2, 3)), error=RuntimeError, match="output subscript q does not appear"),
                    _e("ij,jk->ik", np.ones((2, 3)), error=RuntimeError, match="fewer operands"),
                    _e("ijk->i", np.ones((2, 3)), error=RuntimeError, match=r"number of subscripts in the equation \(3\)")]),
]

CORE_OPS += [
    # -- unary math ------------------------------------------------------------------
    OpInfo("tan", minigrad.tan, torch.tan, lambda: _one(min_value=-1.2, max_value=1.2), (E.Tan,)),
    OpInfo("log2", minigrad.log2, torch.log2, lambda: _one(min_value=0.1), (E.Log2,)),
    OpInfo("log10", minigrad.log10, torch.log10, lambda: _one(min_value=0.1), (E.Log10,)),
    OpInfo("log1p", minigrad.log1p, torch.log1p, lambda: _one(min_value=-0.9), (E.Log1p,)),
    OpInfo("expm1", minigrad.expm1, torch.expm1, _one, (E.Expm1,)),
    OpInfo("exp2", minigrad.exp2, torch.exp2, _one, (E.Exp2,)),
    OpInfo("rsqrt", minigrad.rsqrt, torch.rsqrt, lambda: _one(min_value=0.1), (E.Rsqrt,)),
    OpInfo("square", minigrad.square, torch.square, _one, (E.Mul,)),
    OpInfo("reciprocal", minigrad.reciprocal, torch.reciprocal, lambda: _one(avoid=(0.0,), gap=0.3), (E.Div,)),
    OpInfo("floor", minigrad.floor, torch.floor, lambda: _one(avoid=INTEGERS, gap=0.05), (E.Rounding,)),
    OpInfo("ceil", minigrad.ceil, torch.ceil, lambda: _one(avoid=INTEGERS, gap=0.05), (E.Rounding,)),
    OpInfo("trunc", minigrad.trunc, torch.trunc, lambda: _one(avoid=INTEGERS, gap=0.05), (E.Rounding,)),
    OpInfo("round", minigrad.round, torch.round, lambda: _one(avoid=HALVES, gap=0.05), (E.Rounding,)),
    OpInfo("round_decimals", minigrad.round, torch.round, round_decimals_samples, (E.Rounding,)),
    OpInfo("sign", minigrad.sign, torch.sign, lambda: _one(avoid=(0.0,), gap=0.05), (E.Rounding,)),
    OpInfo("frac", minigrad.frac, torch.frac, lambda: _one(avoid=INTEGERS, gap=0.05), (E.Sub, E.Rounding)),
    OpInfo("clamp_min", lambda x: minigrad.clamp_min(x, -0.5), lambda x: torch.clamp_min(x, -0.5),
           lambda: _one(avoid=(-0.5,), gap=0.05), (E.Clamp,)),
    OpInfo("nan_to_num", minigrad.nan_to_num, torch.nan_to_num, lambda: nan_to_num_samples(finite=True), (E.Where,)),
    # (finite differences cannot step from inf or NaN: compared with PyTorch only)
    OpInfo("nan_to_num_nonfinite", minigrad.nan_to_num, torch.nan_to_num, nan_to_num_samples, (E.Where,),
           gradcheck=False),
    # -- remainders ------------------------------------------------------------------
    OpInfo("remainder", minigrad.remainder, torch.remainder, modulo_samples, (E.Remainder,),
           lambda: [_e(np.ones((2, 3)), np.ones(4), error=RuntimeError, match="must match the size of tensor b")]),
    OpInfo("mod_operator", lambda a, b: a % b, lambda a, b: a % b, modulo_samples, (E.Remainder,)),
    OpInfo("fmod", minigrad.fmod, torch.fmod, modulo_samples, (E.Fmod,)),
    OpInfo("floor_divide", lambda a, b: a // b, lambda a, b: a // b, lambda: modulo_samples(grad=False),
           (E.FloorDivide,), gradcheck=False,
           first_order_only="PyTorch defines no derivative for floor division (its backward raises)",
           error_samples=lambda: [_e(np.ones(2, np.int64), np.zeros(2, np.int64), error=RuntimeError, match="ZeroDivisionError")]),
]

CORE_OPS += [
    # -- shapes, by composition ------------------------------------------------------
    OpInfo("flip", minigrad.flip, torch.flip, flip_samples, (I.GetItem,)),
    OpInfo("roll", minigrad.roll, torch.roll, roll_samples, (S.Cat, I.GetItem)),
    OpInfo("narrow", minigrad.narrow, torch.narrow, narrow_samples, (I.GetItem,),
           lambda: [_e(np.ones((2, 3)), 1, 2, 2, error=RuntimeError, match=r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)")]),
    OpInfo("repeat", lambda x, *sizes: x.repeat(*sizes), lambda x, *sizes: x.repeat(*sizes), repeat_samples,
           (S.Expand, S.Reshape),
           lambda: [_e(np.ones((2, 3)), 2, error=RuntimeError, match="can not be smaller than number of dimensions"),
                    _e(np.ones(()), error=TypeError, match="missing 1 required positional arguments")]),
    OpInfo("repeat_interleave", minigrad.repeat_interleave, torch.repeat_interleave, repeat_interleave_samples,
           (I.GetItem,)),
    OpInfo("diag", minigrad.diag, torch.diag, diag_samples, (I.GetItem, I.IndexPutAccumulate)),
    OpInfo("outer", minigrad.outer, torch.outer, outer_samples, (E.Mul,)),
    OpInfo("norm", minigrad.norm, torch.norm, norm_samples, (L.VectorNorm, R.Amax)),
    OpInfo("linalg.norm", minigrad.linalg.norm, torch.linalg.norm, lambda: norm_samples(linalg=True),
           (L.VectorNorm, R.Amax, R.Amin),
           lambda: [_e(np.ones((2, 3), np.int64), error=RuntimeError, match="Expected a floating point")]),
]

OPS: list = []
