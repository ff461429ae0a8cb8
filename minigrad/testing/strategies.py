"""Hypothesis strategies for tensors' shapes and values.

Importing this module needs `Hypothesis <https://hypothesis.readthedocs.io>`_ (a
test-time dependency: ``pip install minigrad[test]``); ``import minigrad`` does not.

The strategies produce NumPy arrays (float64 by default, as gradient checks need),
with bounded elements, optionally kept away from an op's kinks (``relu`` at 0,
``abs`` at 0, ``clamp`` at its bounds) and from ties (``max``), and in every memory
layout an op may meet: contiguous, transposed, strided and negatively strided.

Examples
--------
>>> from hypothesis import given
>>> from minigrad.testing import strategies as mst
>>> @given(mst.arrays(mst.shapes(max_dims=2)))
... def test_abs_is_nonnegative(x):
...     assert (abs(x) >= 0).all()
>>> test_abs_is_nonnegative()
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["shapes", "broadcastable_shapes", "broadcast_shape_pairs", "arrays", "elements", "LAYOUTS"]

#: The memory layouts :func:`arrays` can produce.
LAYOUTS = ("contiguous", "transposed", "strided", "negative")


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes with ``min_dims..max_dims`` dimensions of size ``min_side..max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(shape, min_dims: int = 0, max_dims: int | None = None, min_side: int = 1,
                         max_side: int = 4):
    """Shapes that broadcast against ``shape`` (some dimensions 1 or missing)."""
    max_dims = len(shape) if max_dims is None else max_dims
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                    max_side=max_side)


def broadcast_shape_pairs(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Pairs ``(shape_a, shape_b)`` that broadcast together, e.g. ``((3, 1), (2, 1, 4))``."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda r: r.input_shapes)


def _push_away(x: float, avoid, gap: float, lo: float, hi: float) -> float:
    """Move ``x`` at least ``gap`` away from every point of ``avoid``, staying in [lo, hi]."""
    for k in avoid:
        if abs(x - k) < gap:
            up, down = k + gap, k - gap
            x = up if (x >= k and up <= hi) or down < lo else down
    return x


def elements(min_value: float = -3.0, max_value: float = 3.0, avoid=(), gap: float = 1e-2):
    """Finite floats in ``[min_value, max_value]``, at least ``gap`` from each point in ``avoid``.

    Finite differences straddling a kink (``|x|`` at 0, relu at 0, clamp at a bound)
    measure the average of two slopes, so gradient tests keep inputs ``gap``
    (≫ the step ``eps``) away from them.
    """
    base = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    avoid = tuple(avoid)
    if not avoid:
        return base
    return base.map(lambda x: _push_away(x, avoid, gap, min_value, max_value))


def _distinct_elements(min_value, max_value, avoid, gap):
    # A grid of spacing `gap` plus unique=True keeps every pair of elements at least
    # `gap` apart, so a max/min has a clear winner under a small perturbation.
    lo, hi = int(np.ceil(min_value / gap)), int(np.floor(max_value / gap))
    return st.integers(lo, hi).map(lambda i: i * gap).filter(lambda x: all(abs(x - k) >= gap for k in avoid))


@st.composite
def _laid_out(draw, shape, dtype, elems, unique, layouts):
    layout = draw(st.sampled_from(layouts)) if len(shape) else "contiguous"
    if layout == "transposed" and len(shape) >= 2:
        perm = draw(st.permutations(range(len(shape))))
        if perm == sorted(perm):
            perm = perm[::-1]  # the identity would be contiguous
        inverse = tuple(np.argsort(perm))
        a = draw(hnp.arrays(dtype, tuple(shape[p] for p in perm), elements=elems, unique=unique))
        return a.transpose(inverse)
    if layout == "strided":
        axis = draw(st.integers(0, len(shape) - 1))
        big = list(shape)
        big[axis] *= 2
        a = draw(hnp.arrays(dtype, tuple(big), elements=elems, unique=unique))
        return a[(slice(None),) * axis + (slice(None, None, 2),)]
    a = draw(hnp.arrays(dtype, tuple(shape), elements=elems, unique=unique))
    if layout == "negative":
        axis = draw(st.integers(0, len(shape) - 1))
        return a[(slice(None),) * axis + (slice(None, None, -1),)]
    return a


def arrays(shape=None, *, dtype=np.float64, min_value: float = -3.0, max_value: float = 3.0, avoid=(),
           gap: float = 1e-2, distinct: bool = False, layouts=LAYOUTS):
    """Arrays of ``shape`` (a tuple or a strategy of shapes) with bounded elements.

    Parameters
    ----------
    shape : tuple or strategy, optional
        Default: :func:`shapes`.
    dtype : dtype, default float64
    min_value, max_value : float
        Bounds of the elements (use e.g. ``min_value=0.1`` for ``log``).
    avoid : sequence of float
        Points to keep at least ``gap`` away from (kinks).
    gap : float
        Minimum distance from the ``avoid`` points, and between elements when ``distinct``.
    distinct : bool
        Elements pairwise at least ``gap`` apart (no ties for max/min/sort).
    layouts : sequence of str
        Memory layouts to draw from (see :data:`LAYOUTS`): non-contiguous ones are
        views of a larger or permuted array with the same values' distribution.
    """
    shape_st = shapes() if shape is None else (shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape)))
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        if distinct:
            elems = _distinct_elements(min_value, max_value, tuple(avoid), gap)
        else:
            elems = elements(min_value, max_value, avoid, gap)
        # width keeps float32 arrays' draws representable.
        elems = elems.map(dtype.type)
    else:
        elems = st.integers(int(min_value), int(max_value))
    return shape_st.flatmap(lambda s: _laid_out(s, dtype, elems, distinct, tuple(layouts)))
