"""Shape ops: they move or repeat elements without changing values, so each
VJP moves the gradient back (reshape back, inverse permutation, sum over copies).
Beside each ``Primitive`` sit the public functions that call it (``reshape`` with
``flatten``/``squeeze``/``unsqueeze``, ``permute`` with ``transpose``, ...)."""
from __future__ import annotations

import itertools
import math

import numpy as np

from minigrad.autograd import Primitive
from minigrad.autograd.function import rename_node
from minigrad.ops._promotion import dim_index, normalize_dims
from minigrad.ops.indexing import getitem, index_put_accumulate


class Reshape(Primitive):
    """y = x with shape ``shape`` (same elements, row-major order).   VJP: x̄ = ȳ reshaped to x's shape."""

    node_name = "ViewBackward0"

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.size}") from None

    @staticmethod
    def backward(ctx, grad):
        return np.reshape(grad, ctx.in_shape), None


def reshape(input, shape):
    """The same elements in a new shape, one dimension may be -1 (:class:`Reshape`).

    Parameters
    ----------
    input : Tensor
    shape : tuple of int

    Returns
    -------
    Tensor
    """
    out = Reshape.apply(input, tuple(int(s) for s in shape))
    if out.grad_fn is not None and out._vc is not input._vc:
        # Not a view (apply shares the version counter of a view): PyTorch copies, then views.
        rename_node(out, "UnsafeViewBackward0")
    return out


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    """Merge dimensions ``start_dim..end_dim`` into one (a :func:`reshape`).

    Parameters
    ----------
    input : Tensor
    start_dim, end_dim : int

    Returns
    -------
    Tensor
    """
    if input.ndim == 0:
        return reshape(input, (1,))
    s, e = dim_index(start_dim, input.ndim), dim_index(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape
    return reshape(input, shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :])


def unflatten(input, dim: int, sizes):
    """Split dimension ``dim`` into ``sizes`` (the inverse of :func:`flatten`; a :func:`reshape`).

    Parameters
    ----------
    input : Tensor
    dim : int
    sizes : tuple of int
        Their product must be the size of ``dim``; one entry may be -1 (inferred).

    Returns
    -------
    Tensor
    """
    sizes = list(sizes)
    shape = tuple(input.shape)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if not shape:
        raise RuntimeError("unflatten: a 0-d tensor has no dimension to unflatten")
    d = dim_index(dim, len(shape))
    if sizes.count(-1) > 1 or any(n < -1 for n in sizes):
        raise RuntimeError(f"unflatten: invalid sizes {sizes}: only one dimension can be inferred (-1), "
                           "the others must be non-negative")
    known = math.prod(n for n in sizes if n != -1)
    if (known != shape[d]) if -1 not in sizes else (known == 0 or shape[d] % known):
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {d} "
                           f"({shape[d]}) in the input tensor")
    return reshape(input, shape[:d] + tuple(sizes) + shape[d + 1:])


def squeeze(input, dim=None):
    """Remove dimensions of size 1, only ``dim`` when given (a :func:`reshape`).

    Parameters
    ----------
    input : Tensor
    dim : int or tuple of int, optional

    Returns
    -------
    Tensor
    """
    shape = input.shape
    if dim is None:
        return rename_node(reshape(input, tuple(n for n in shape if n != 1)), "SqueezeBackward0")
    dims = normalize_dims(dim, input.ndim) if input.ndim else ()
    out = reshape(input, tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1)))
    return rename_node(out, "SqueezeBackward2" if isinstance(dim, (tuple, list)) else "SqueezeBackward1")


def unsqueeze(input, dim: int):
    """Insert a dimension of size 1 at ``dim`` (a :func:`reshape`).

    Parameters
    ----------
    input : Tensor
    dim : int

    Returns
    -------
    Tensor
    """
    d = normalize_dims(dim, input.ndim + 1)[0]
    shape = input.shape
    return rename_node(reshape(input, shape[:d] + (1,) + shape[d:]), "UnsqueezeBackward0")


def as_vector(input, dim):
    """A 0-d tensor as shape (1,), for ops that take a ``dim``.

    PyTorch lets such ops treat a 0-d tensor as one dimension of size 1 (``dim``
    0 or -1); routing through a reshape keeps one implementation per op.
    """
    normalize_dims(dim, 0)  # raises for a dim other than 0 / -1
    return reshape(input, (1,))


class Permute(Primitive):
    """y = x with dimensions reordered: y.shape[i] = x.shape[dims[i]].   VJP: x̄ = ȳ permuted by the inverse of dims."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, ctx.inverse), None


def transpose(input, dim0: int, dim1: int):
    """Swap dimensions ``dim0`` and ``dim1`` (a :class:`Permute`).

    Parameters
    ----------
    input : Tensor
    dim0, dim1 : int

    Returns
    -------
    Tensor
    """
    if input.ndim == 0:
        return input
    dims = list(range(input.ndim))
    a, b = dim_index(dim0, input.ndim), dim_index(dim1, input.ndim)
    dims[a], dims[b] = dims[b], dims[a]
    return rename_node(Permute.apply(input, tuple(dims)), "TransposeBackward0")


def permute(input, dims):
    """Reorder the dimensions (:class:`Permute`).

    Parameters
    ----------
    input : Tensor
    dims : tuple of int

    Returns
    -------
    Tensor
    """
    dims = tuple(int(d) for d in dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            f"permute(): number of dimensions in the tensor input does not match the length "
            f"of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(dim_index(d, input.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims)


class Expand(Primitive):
    """y = x broadcast to ``shape`` (a read-only view).   VJP: x̄ = ȳ summed over the copies (done by the engine)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(
                f"The expanded size of the tensor {shape} must match the existing size {x.shape} "
                "at non-singleton dimensions"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def expand(input, sizes):
    """``input`` broadcast to ``sizes``, a view (:class:`Expand`); -1 keeps a dimension's size.

    Parameters
    ----------
    input : Tensor
    sizes : tuple of int

    Returns
    -------
    Tensor
    """
    sizes = tuple(int(s) for s in sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({input.ndim})"
        )
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return Expand.apply(input, shape)


def broadcast_to(input, shape):
    """``input`` broadcast to ``shape``: :func:`expand`."""
    return expand(input, shape)


class Cat(Primitive):
    """y = the inputs joined along ``dim``.   VJP: each input gets its slice of ȳ (``np.split``:
    views of an array, one :class:`Split` of a tensor, whose VJP is this op again).

    Called as ``Cat.apply(dim, *tensors)`` so that every tensor is a positional input.
    """

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]
        for k, x in enumerate(xs):
            if x.ndim == 0:
                raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be concatenated")
            if x.ndim != xs[0].ndim or any(
                n != m for d, (n, m) in enumerate(zip(x.shape, xs[0].shape)) if d != dim
            ):
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected shape "
                    f"{list(xs[0].shape)} but got {list(x.shape)} for tensor number {k} in the list."
                )
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(np.split(grad, ctx.bounds, axis=ctx.dim))


def cat(tensors, dim: int = 0):
    """Concatenate tensors along an existing dimension (:class:`Cat`).

    Parameters
    ----------
    tensors : sequence of Tensor
        Same shape except along ``dim``.
    dim : int, default 0

    Returns
    -------
    Tensor
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for k, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be concatenated")
    return Cat.apply(dim_index(dim, tensors[0].ndim), *tensors)


class Stack(Primitive):
    """y = the inputs stacked along a new dimension ``dim``.   VJP: input k gets ȳ indexed at k along dim
    (the rows of ȳ with dim moved first: views of an array, one :class:`Unbind` of a tensor, whose VJP is
    this op again)."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(np.moveaxis(grad, ctx.dim, 0))


def stack(tensors, dim: int = 0):
    """Stack tensors of equal shape along a new dimension (:class:`Stack`).

    Parameters
    ----------
    tensors : sequence of Tensor
    dim : int, default 0

    Returns
    -------
    Tensor
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {sorted(shapes)}")
    return Stack.apply(dim_index(dim, tensors[0].ndim + 1), *tensors)


def _gradient_of_pieces(ctx, grads, pieces, join):
    """x̄ for the pieces ``x[pieces[k]]`` of a partition of x, whose gradients are ``grads``.

    First order (arrays): each piece's gradient is written once into one array
    of x's shape, and zeros only where no gradient arrived. Recording (tensors,
    ``create_graph``): ``join`` (``np.stack`` or ``np.concatenate`` along the
    dimension) of the gradients, zeros for a piece that received none, so that
    x̄ is differentiable again.
    """
    if all(g is None or type(g) is np.ndarray for g in grads):
        x_grad = np.empty(ctx.in_shape, ctx.dtype)
        for index, g in zip(pieces, grads):
            x_grad[index] = 0 if g is None else g
        return x_grad
    zeros = np.zeros(ctx.in_shape, ctx.dtype)
    return join([zeros[index] if g is None else g for index, g in zip(pieces, grads)], axis=ctx.dim)


class Unbind(Primitive):
    """yₖ = x[..., k, ...] for every k along ``dim`` (views of x, one dimension fewer).

    VJP: x̄ = the ȳₖ stacked along ``dim`` (:func:`stack`, zeros for a yₖ that
    received no gradient); :class:`Stack`'s VJP is this op again.
    """

    is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim, ctx.in_shape, ctx.dtype = dim, x.shape, x.dtype
        rows = np.moveaxis(x, dim, 0)
        return tuple(rows[k, ...] for k in range(rows.shape[0]))  # (``...``: a 0-d view, not a NumPy scalar)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        pieces = [lead + (k,) for k in range(ctx.in_shape[ctx.dim])]
        return _gradient_of_pieces(ctx, list(grad), pieces, np.stack), None


def unbind(input, dim: int = 0):
    """The slices of ``input`` along ``dim``, each without that dimension (:class:`Unbind`).

    ``q, k, v = x`` iterates ``x``, which is ``x.unbind(0)``: one node for all the slices.

    Parameters
    ----------
    input : Tensor
    dim : int, default 0

    Returns
    -------
    tuple of Tensor
        Views of ``input``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.unbind(minigrad.tensor([[1, 2], [3, 4]]), 1)
    (tensor([1, 3]), tensor([2, 4]))
    """
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return Unbind.apply(input, dim_index(dim, input.ndim))


class Split(Primitive):
    """yₖ = x[..., sₖ:sₖ + sizes[k], ...] along ``dim``, sₖ = sizes[0] + ... + sizes[k-1] (views of x).

    VJP: x̄ = the ȳₖ concatenated along ``dim`` (:func:`cat`, zeros for a yₖ that
    received no gradient); :class:`Cat`'s VJP is this op again.
    """

    is_view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.sizes, ctx.dim, ctx.in_shape, ctx.dtype = sizes, dim, x.shape, x.dtype
        return tuple(x[index] for index in _split_pieces(sizes, dim))

    @staticmethod
    def backward(ctx, grad):
        return _gradient_of_pieces(ctx, list(grad), _split_pieces(ctx.sizes, ctx.dim), np.concatenate), None, None


class SplitWithSizes(Split):
    """:class:`Split` given the list of sizes (PyTorch names its node apart)."""


def _split_pieces(sizes, dim: int) -> list:
    lead = (slice(None),) * dim
    stops = itertools.accumulate(sizes)
    return [lead + (slice(stop - size, stop),) for size, stop in zip(sizes, stops)]


def split(input, split_size_or_sections, dim: int = 0):
    """Split into pieces along ``dim`` (:class:`Split`, or :class:`SplitWithSizes` for a list of sizes).

    Parameters
    ----------
    input : Tensor
    split_size_or_sections : int or list of int
        The size of every piece (the last may be smaller), or the list of sizes.
    dim : int, default 0

    Returns
    -------
    tuple of Tensor
        Views of ``input``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.split(minigrad.tensor([1, 2, 3, 4, 5]), 2)
    (tensor([1, 2]), tensor([3, 4]), tensor([5]))
    """
    if input.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = dim_index(dim, input.ndim)
    n = input.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        if step == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = tuple(min(step, n - s) for s in range(0, n, step)) if n else (0,)
        return Split.apply(input, sizes, d)
    if not isinstance(split_size_or_sections, (list, tuple)) or not all(
        isinstance(s, (int, np.integer)) for s in split_size_or_sections
    ):
        raise TypeError("split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not "
                        f"{type(split_size_or_sections).__name__}")
    sizes = tuple(int(s) for s in split_size_or_sections)
    if any(s < 0 for s in sizes):
        raise RuntimeError(
            f"split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes={list(sizes)}"
        )
    if sum(sizes) != n:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
            f"dimension {d}), but got split_sizes={list(sizes)}"
        )
    return SplitWithSizes.apply(input, sizes, d)


def chunk(input, chunks: int, dim: int = 0):
    """Split into ``chunks`` pieces of (nearly) equal size along ``dim`` (a :func:`split`).

    Parameters
    ----------
    input : Tensor
    chunks : int
    dim : int, default 0

    Returns
    -------
    tuple of Tensor
        Views of ``input``; fewer than ``chunks`` when pieces of ``ceil(n / chunks)``
        cover the dimension sooner, as in PyTorch.
    """
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = dim_index(dim, input.ndim)
    n = input.shape[d]
    if n == 0:  # (as PyTorch: ``chunks`` empty pieces, where split(0) would give one)
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), d)


# -- compositions: each moves elements with the ops above (or indexing), so its gradient
#    moves them back with theirs --------------------------------------------------------------
def flip(input, dims):
    """``input`` reversed along each of ``dims``: a negative-step slice (a view), ȳ reversed back.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.flip(minigrad.tensor([[1, 2], [3, 4]]), [1])
    tensor([[2, 1],
            [4, 3]])
    """
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    dims = normalize_dims(dims, input.ndim) if dims else ()  # (an empty list flips nothing)
    index = tuple(slice(None, None, -1) if d in dims else slice(None) for d in range(input.ndim))
    return rename_node(getitem(input, index) if dims else getitem(input, (Ellipsis,)), "FlipBackward0")


def roll(input, shifts, dims=None):
    """``input`` shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor when None).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.roll(minigrad.tensor([1, 2, 3, 4]), 1)
    tensor([4, 1, 2, 3])
    """
    if dims is None:
        if not isinstance(shifts, int) and len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        shift = shifts if isinstance(shifts, int) else shifts[0]
        return rename_node(reshape(roll(reshape(input, (-1,)), shift, 0), input.shape), "RollBackward0")
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    out = input
    for s, d in zip(shifts, dims):
        d = dim_index(d, input.ndim)
        n = input.shape[d]
        s = int(s) % n if n else 0
        if s:
            lead = (slice(None),) * d
            out = cat([getitem(out, lead + (slice(n - s, None),)), getitem(out, lead + (slice(0, n - s),))], d)
    return out if out is input else rename_node(out, "RollBackward0")


def narrow(input, dim: int, start: int, length: int):
    """The slice ``start:start + length`` of ``input`` along ``dim`` (a view).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.narrow(minigrad.tensor([1, 2, 3, 4]), 0, 1, 2)
    tensor([2, 3])
    """
    d = dim_index(dim, input.ndim)
    n = input.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return rename_node(getitem(input, (slice(None),) * d + (slice(start, start + int(length)),)), "SliceBackward0")


def repeat(input, *sizes):
    """``input`` tiled ``sizes[i]`` times along each dimension (``Tensor.repeat``): an :func:`expand`
    of interleaved size-1 dimensions, reshaped, so ȳ is summed over the copies.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.tensor([1, 2]).repeat(2, 2)
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]])
    """
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(int(s) for s in sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shape = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    spread = reshape(input, tuple(n for s in shape for n in (1, s)))
    tiled = expand(spread, tuple(n for r, s in zip(sizes, shape) for n in (r, s)))
    return rename_node(reshape(tiled, tuple(r * s for r, s in zip(sizes, shape))), "RepeatBackward0")


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Each element (each slice along ``dim``; of the flattened tensor when None) repeated
    ``repeats`` times in place: an integer-array index, so ȳ is index-added back.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.repeat_interleave(minigrad.tensor([1, 2]), 2)
    tensor([1, 1, 2, 2])
    """
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        d = dim_index(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    r = np.asarray(repeats)
    if r.ndim and r.shape != (n,) and r.size != 1:
        raise RuntimeError("repeats must have the same size as input along dim")
    if np.any(r < 0):
        raise RuntimeError("repeats can not be negative")
    positions = np.repeat(np.arange(n), r.reshape(-1) if r.size != 1 else int(r.reshape(())))
    if input.ndim == 0:
        input = reshape(input, (1,))
    return getitem(input, (slice(None),) * d + (positions,))


def diag(input, diagonal: int = 0):
    """A 1-D input as the ``diagonal``-th diagonal of a square matrix; a 2-D input's ``diagonal``-th
    diagonal as a vector. Written as indexing (and its accumulate-VJP), so each is the other's VJP.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.diag(minigrad.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    """
    k = int(diagonal)
    if input.ndim == 1:
        n = input.shape[0] + abs(k)
        i = np.arange(input.shape[0])
        rows, cols = (i, i + k) if k >= 0 else (i - k, i)
        return rename_node(index_put_accumulate((n, n), (rows, cols), input), "DiagEmbedBackward0")
    if input.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{input.ndim}D")
    rows_n, cols_n = input.shape
    length = max(0, min(rows_n, cols_n - k) if k >= 0 else min(rows_n + k, cols_n))
    i = np.arange(length)
    rows, cols = (i, i + k) if k >= 0 else (i - k, i)
    return getitem(input, (rows, cols))
