"""Masking: ``tril``, ``triu`` and ``masked_fill``.

Each is a :class:`~minigrad.ops.elementwise.Where` with a constant mask, so it
needs no derivative of its own: ȳ flows to the kept positions of the input and
nowhere else (a filled ``-inf`` never meets a gradient, so it cannot make a NaN),
and every order of derivative comes from ``Where``'s.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd.function import rename_node
from minigrad.ops._promotion import data_of
from minigrad.ops.elementwise import Where

__all__ = ["tril", "triu", "masked_fill"]


def _band(input, diagonal: int, lower: bool):
    x = data_of(input)
    if np.ndim(x) < 2:
        name = "tril" if lower else "triu"
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    rows, cols = x.shape[-2:]
    keep = np.tri(rows, cols, int(diagonal), dtype=bool)
    if not lower:
        keep = ~np.tri(rows, cols, int(diagonal) - 1, dtype=bool)
    return rename_node(Where.apply(keep, input, np.zeros((), dtype=x.dtype)), "TrilBackward0" if lower else "TriuBackward0")


def tril(input, diagonal: int = 0):
    """The lower triangle of the last two dims: ``y[..., i, j] = x[..., i, j]`` if ``j − i ≤ diagonal``, else 0.

    Parameters
    ----------
    input : Tensor, at least 2-D
    diagonal : int, default 0
        0 keeps the main diagonal, positive values keep that many diagonals above it,
        negative values drop that many below it.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.tril(minigrad.ones(3, 3)).tolist()
    [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    """
    return _band(input, diagonal, lower=True)


def triu(input, diagonal: int = 0):
    """The upper triangle of the last two dims: ``y[..., i, j] = x[..., i, j]`` if ``j − i ≥ diagonal``, else 0.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.triu(minigrad.ones(2, 3), diagonal=1).tolist()
    [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    """
    return _band(input, diagonal, lower=False)


def masked_fill(input, mask, value):
    """``value`` where ``mask`` is True, ``input`` elsewhere (``mask`` broadcasts to ``input``'s shape).

    The gradient reaching ``input`` is zero at the filled positions. As in PyTorch,
    the result has ``input``'s shape and dtype; ``mask`` must be a bool tensor.

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.zeros(2, 2)
    >>> x.masked_fill(minigrad.tensor([[True, False], [False, True]]), float("-inf")).tolist()
    [[-inf, 0.0], [0.0, -inf]]
    """
    m = data_of(mask)
    if np.asarray(m).dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {np.asarray(m).dtype}")
    x = data_of(input)
    try:
        shape = np.broadcast_shapes(np.shape(m), np.shape(x))
    except ValueError:
        shape = np.shape(m)
    if shape != np.shape(x):
        raise RuntimeError(
            f"The expanded size of the mask ({list(shape)}) must match the existing size of the input "
            f"({list(np.shape(x))})"
        )
    if np.ndim(data_of(value)) != 0:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{np.ndim(data_of(value))} dimension(s)."
        )
    fill = np.asarray(data_of(value), dtype=x.dtype)
    return rename_node(Where.apply(m, fill, input), "MaskedFillBackward0")
