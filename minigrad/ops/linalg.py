"""Matrix products: :class:`MatMul` and, beside it, :func:`matmul`."""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Primitive, function
from minigrad.autograd.function import rename_node
from minigrad.ops._promotion import no_bool, normalize_dims, operand, to_dtype, torch_dtype_name
from minigrad.ops.elementwise import Add, Mul, mul
from minigrad.ops.elementwise import abs as abs_
from minigrad.ops.reduction import amax, amin
from minigrad.ops.shape import reshape


class MatMul(Primitive):
    """y = a @ b (batched, broadcasting over leading dims; 1-D operands as in NumPy).

    VJP: ā = ȳ @ bᵀ,  b̄ = aᵀ @ ȳ, with the 1-D cases handled by temporarily
    promoting vectors to matrices, and broadcast batch dims summed by the engine.
    """

    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError("both arguments to matmul need to be at least 1D")
        ctx.save_for_backward(a, b)
        try:
            return np.matmul(a, b)
        except ValueError:
            sa, sb = ("x".join(map(str, x.shape)) for x in (a, b))
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})") from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # a dot product: ȳ is a scalar
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if need_a:
            ga = np.matmul(g, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = np.reshape(ga, ga.shape[:-2] + (a.shape[0],))
        if need_b:
            gb = np.matmul(np.swapaxes(a2, -1, -2), g)
            if b.ndim == 1:
                gb = np.reshape(gb, gb.shape[:-2] + (b.shape[0],))
        return ga, gb


# C++'s names of the dtypes, as PyTorch's matmul messages spell them.
_C_TYPE_NAMES = {
    "float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int", "int32": "int",
    "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
}


def matmul(input, other):
    """Matrix product with NumPy/PyTorch broadcasting of batch dimensions (:class:`MatMul`).

    The operands must have one dtype (PyTorch does not promote in matmul).

    Parameters
    ----------
    input, other : Tensor

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import minigrad
    >>> minigrad.matmul(minigrad.eye(2), minigrad.tensor([[1.0], [2.0]]))
    tensor([[1.],
            [2.]])
    """
    a, b = operand(input), operand(other)
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da is not None and db is not None:
        no_bool(a, "\"addmm_impl_cpu_\" not implemented for 'Bool'", NotImplementedError)
        no_bool(b, "\"addmm_impl_cpu_\" not implemented for 'Bool'", NotImplementedError)
        if da != db:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{_C_TYPE_NAMES.get(da.name, da.name)} != {_C_TYPE_NAMES.get(db.name, db.name)}")
    out = MatMul.apply(a, b)
    if out.grad_fn is not None and (a.ndim, b.ndim) != (2, 2):
        # PyTorch's node for matmul depends on the operands' dims (mv, dot, or a batched product behind a view).
        rename_node(out, _MATMUL_NODE_NAMES.get((a.ndim, b.ndim), "UnsafeViewBackward0"))
    return out


_MATMUL_NODE_NAMES = {(2, 1): "MvBackward0", (1, 1): "DotBackward0", (1, 2): "SqueezeBackward4"}


def mm(input, mat2):
    """Matrix product of two 2-D tensors, (n, k) @ (k, m) -> (n, m): :class:`MatMul` without broadcasting.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.mm(minigrad.tensor([[1.0, 2.0]]), minigrad.tensor([[3.0], [4.0]]))
    tensor([[11.]])
    """
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix product, (b, n, k) @ (b, k, m) -> (b, n, m): :class:`MatMul` without broadcasting.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.bmm(minigrad.ones(2, 1, 3), minigrad.ones(2, 3, 1)).shape
    minigrad.Size([2, 1, 1])
    """
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    expected = [input.shape[0], input.shape[2]]
    if list(mat2.shape[:2]) != expected:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: {expected} "
                           f"but got: {list(mat2.shape[:2])}.")
    return rename_node(matmul(input, mat2), "BmmBackward0")


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta · input + alpha · (mat1 @ mat2)``, ``input`` broadcast to the product's (n, m).

    With ``beta = 0``, ``input`` is ignored (NaN in it does not propagate), as in PyTorch.
    The gradient is that of the products and the sum.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.addmm(minigrad.ones(2), minigrad.eye(2), minigrad.eye(2), beta=0.5)
    tensor([[1.5000, 0.5000],
            [0.5000, 1.5000]])
    """
    product = mm(mat1, mat2)
    if input.dtype != product.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {torch_dtype_name(input.dtype)} "
                           f"and {torch_dtype_name(product.dtype)}")
    target = product.shape
    try:
        fits = np.broadcast_shapes(input.shape, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"The expanded size of the tensor ({target[-1]}) must match the existing size ({input.shape[-1]}) at "
            f"non-singleton dimension {input.ndim - 1}.  Target sizes: {list(target)}.  Tensor sizes: {list(input.shape)}"
        )
    if alpha != 1:
        product = Mul.apply(product, np.asarray(alpha, dtype=product.dtype))
    if beta == 0:
        return rename_node(product, "AddmmBackward0")
    scaled = input if beta == 1 else Mul.apply(input, np.asarray(beta, dtype=input.dtype))
    return rename_node(Add.apply(scaled, product), "AddmmBackward0")


def _parse_einsum(equation: str, operands) -> tuple:
    """``(input subscripts per operand, output subscripts)``, checked as PyTorch checks them."""
    eq = equation.replace(" ", "")
    if "." in eq:
        raise NotImplementedError("einsum(): ellipsis ('...') is not supported in minigrad; name every dimension")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if len(inputs) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    for s in inputs + [rhs]:
        for c in s:
            if not c.isalpha():
                raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in the equation "
                                   f"string, subscripts must be in [a-zA-Z]")
    sizes = {}
    for k, (s, x) in enumerate(zip(inputs, operands)):
        if len(s) != np.ndim(x):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) does not match the "
                               f"number of dimensions ({np.ndim(x)}) for operand {k} and no ellipsis was given")
        for c, n in zip(s, np.shape(x)):
            seen = sizes.get(c, 1)
            if seen != 1 and n != 1 and seen != n:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which does not "
                                   f"broadcast with previously seen size {seen}")
            sizes[c] = max(seen, n)
    if arrow:
        for c in rhs:
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
    else:  # implicit output: the subscripts that appear once, in alphabetical order
        letters = "".join(inputs)
        rhs = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, rhs, sizes


class Einsum(Primitive):
    """y = einsum(equation, x₁, …, xₙ): a sum over the subscripts missing from the output of
    the product of the operands (2 or 3 in practice; any number works).

    VJP: x̄ₖ = einsum of ȳ (output subscripts) and every other operand, into xₖ's
    subscripts: the same sum with xₖ's place taken by ȳ. A subscript xₖ has alone (summed
    away by xₖ only) is brought back by a ones vector, and one xₖ repeats (a diagonal)
    by an identity matrix joining its two positions. Called as
    ``Einsum.apply(inputs, output, *operands)``, so every operand is a positional input.
    """

    @staticmethod
    def forward(ctx, inputs, output, *xs):
        ctx.inputs, ctx.output = inputs, output
        ctx.save_for_backward(*xs)
        spec = ",".join(inputs) + "->" + output
        return np.asarray(np.einsum(spec, *xs, optimize=len(xs) > 2))

    @staticmethod
    def backward(ctx, grad):
        xs = ctx.saved_tensors
        grads = [None, None]
        for k, s in enumerate(ctx.inputs):
            if not ctx.needs_input_grad[k + 2]:
                grads.append(None)
                continue
            subs, ops = [ctx.output], [grad]
            for j, (t, x) in enumerate(zip(ctx.inputs, xs)):
                if j != k:
                    subs.append(t)
                    ops.append(x)
            present = set("".join(subs))
            shape = np.shape(xs[k])
            fresh = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "".join(ctx.inputs))
            target = ""
            for c, n in zip(s, shape):
                if c not in present:  # summed away by this operand alone: every position gets ȳ's share
                    subs.append(c)
                    ops.append(np.ones(n, dtype=np.result_type(grad)))
                    present.add(c)
                if c in target:  # a repeated subscript: the gradient lives on the diagonal
                    c2 = next(fresh)
                    subs.append(c + c2)
                    ops.append(np.eye(n, dtype=np.result_type(grad)))
                    c = c2
                target += c
            g = np.einsum(",".join(subs) + "->" + target, *ops)
            grads.append(g)
        return tuple(grads)


def einsum(equation: str, *operands):
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``.

    Subscripts are letters; an explicit output (``->``) or the implicit one (the
    subscripts seen once, sorted). Repeated subscripts take diagonals, size-1 dimensions
    broadcast. Operands may also be given as one list. Ellipsis is not supported. The
    VJP is an einsum too (:class:`Einsum`).

    Examples
    --------
    >>> import minigrad
    >>> a = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> minigrad.einsum("ij,ij->i", a, a)
    tensor([ 5., 25.])
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    inputs, output, _ = _parse_einsum(equation, operands)
    summed = set("".join(inputs)) - set(output)
    if summed and len(operands) > 1 and any(x.dtype == np.bool_ for x in operands):
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")  # a contraction runs bmm
    dtypes = {x.dtype for x in operands}
    if len(dtypes) > 1:
        if summed:  # a contraction runs bmm, which does not promote
            first = operands[0].dtype
            other = next(x.dtype for x in operands if x.dtype != first)
            raise RuntimeError(f"expected scalar type {torch_dtype_name(first)} but found {torch_dtype_name(other)}")
        # only products: PyTorch's promotion (an integer operand takes the floating one's dtype)
        floats = [d for d in dtypes if d.kind == "f"]
        target = np.result_type(*floats) if floats else np.result_type(*dtypes)
        operands = tuple(x if x.dtype == target else to_dtype(x, target) for x in operands)
    if summed and len(operands) == 1 and operands[0].dtype.kind in "biu":
        # PyTorch reduces a lone operand by sum: integers and bools to int64
        operands = (to_dtype(operands[0], np.dtype(np.int64)),)
    return Einsum.apply(tuple(inputs), output, *operands)


def outer(input, vec2):
    """The outer product of two vectors, ``y[i, j] = input[i] · vec2[j]`` (a broadcast :func:`mul`).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.outer(minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0, 10.0]))
    tensor([[ 1., 10.],
            [ 2., 20.]])
    """
    return mul(reshape(input, (-1, 1)), reshape(vec2, (1, -1)))


class VectorNorm(Primitive):
    """y = (Σ_dims |x|ᵖ)^(1/p) for a finite p > 0.

    VJP: x̄ = ȳ · sign(x) |x|^(p−1) / y^(p−1) (ȳ · x / y for p = 2, ȳ · sign(x) for p = 1),
    and 0 where y = 0 (PyTorch's subgradient at the origin).
    """

    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        a = np.abs(x)
        if p == 2:
            y = np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
        elif p == 1:
            y = np.sum(a, axis=axes, keepdims=keepdim)
        else:
            y = np.sum(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
        y = np.asarray(y, dtype=x.dtype)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        shape = list(np.shape(x))
        for a in ctx.axes:
            shape[a] = 1
        g, yb = (v if ctx.keepdim else np.reshape(v, tuple(shape)) for v in (grad, y))
        if ctx.p == 1:
            return g * np.sign(x), None, None, None
        zero = np.equal(yb, 0)  # a constant mask
        safe = np.where(zero, np.ones((), dtype=np.result_type(x)), yb)
        if ctx.p == 2:
            share = x / safe
        else:
            share = np.sign(x) * np.abs(x) ** (ctx.p - 1) / safe ** (ctx.p - 1)
        return np.where(zero, np.zeros((), dtype=np.result_type(x)), g * share), None, None, None


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):
    """The ``ord``-norm of ``x`` over ``dim`` (all elements when None): ``(Σ |x|^ord)^(1/ord)``,
    ``max |x|`` for inf, ``min |x|`` for −inf, the count of nonzeros for 0 (:class:`VectorNorm`).

    Examples
    --------
    >>> import minigrad
    >>> minigrad.linalg.vector_norm(minigrad.tensor([3.0, 4.0]))
    tensor(5.)
    """
    if dtype is not None:
        x = to_dtype(x, np.dtype(dtype))
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {torch_dtype_name(x.dtype)}")
    axes = normalize_dims(dim, x.ndim)
    ord = float(ord)
    if ord == np.inf:
        return amax(abs_(x), axes, keepdim)
    if ord == -np.inf:
        return amin(abs_(x), axes, keepdim)
    if ord == 0:
        count = np.sum(np.not_equal(x._array, 0), axis=axes, keepdims=keepdim)
        return function.Tensor._make(np.asarray(count, dtype=x.dtype), False, None)
    if ord < 0:
        raise NotImplementedError("vector_norm with a negative finite ord is not provided")
    return VectorNorm.apply(x, ord, axes, keepdim)


def linalg_norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None):
    """``torch.linalg.norm``: a vector norm, or the Frobenius norm of matrices.

    With ``ord=None`` the 2-norm of the flattened input (``dim=None``), of each vector
    (``dim`` an int) or the Frobenius norm (``dim`` a pair). A numeric ``ord`` takes a
    1-D input (or an int ``dim``) as vectors; ``'fro'`` over a pair of dims. The other
    matrix norms (nuclear, spectral, 1/inf) are not provided.
    """
    if isinstance(ord, str) or (ord is not None and (A.ndim == 2 and dim is None or isinstance(dim, tuple) and len(dim) == 2)):
        if ord != "fro":
            raise NotImplementedError(f"linalg.norm: the matrix norm ord={ord!r} is not provided; 'fro' is")
        return vector_norm(A, 2, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """``torch.norm``: the ``p``-norm over ``dim`` (all elements when None); ``'fro'`` (the default)
    is the 2-norm of the elements. ``'nuc'`` is not provided.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.norm(minigrad.tensor([[3.0, 0.0], [0.0, 4.0]]))
    tensor(5.)
    """
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc') is not provided")
    return vector_norm(input, 2 if p == "fro" else p, dim, keepdim, dtype=dtype)
