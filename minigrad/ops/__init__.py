"""The differentiable ops, re-exported: ``minigrad.ops.add`` is ``minigrad.add``.

Each op has one address: its ``Primitive`` (forward, backward, and a docstring with the
math and the vector-Jacobian product) and, beside it, the public function that calls it,
in the module of its family:

* :mod:`~minigrad.ops.elementwise` - add, sub, mul, div, neg, pow, exp, log, sqrt, abs, sin,
  cos, tanh, sigmoid, relu, clamp, maximum, minimum, where, clone, tan, log2, log10, log1p, expm1,
  exp2, rsqrt, square, reciprocal, erf, floor, ceil, trunc, round, sign, frac, clamp_min/max,
  nan_to_num, floor_divide, remainder, fmod;
* :mod:`~minigrad.ops.comparison` - eq, ne, lt, le, gt, ge, isclose, allclose, equal, isnan,
  isinf, isfinite, all, any (not differentiable);
* :mod:`~minigrad.ops.reduction` - sum, mean, max, min, amax, amin, var, std, logsumexp, argmax, argmin;
* :mod:`~minigrad.ops.shape` - reshape, flatten, squeeze, unsqueeze, transpose, permute, expand,
  cat, stack, split, chunk, unbind, flip, roll, narrow, repeat, repeat_interleave, diag;
* :mod:`~minigrad.ops.linalg` - matmul, mm, bmm, addmm, einsum, outer, norm (and ``minigrad.linalg``);
  :mod:`~minigrad.ops.softmax` - softmax, log_softmax;
* :mod:`~minigrad.ops.indexing` - getitem, setitem, and the gather / index-add kernels as ops;
* :mod:`~minigrad.ops.gather_scatter` - PyTorch's gather, scatter, scatter_add, index_select,
  index_add, on the kernels' ops; :mod:`~minigrad.ops.sorting` - sort, argsort, topk (their
  :mod:`~minigrad.ops.return_types`); :mod:`~minigrad.ops.scan` - cumsum, cumprod;
* :mod:`~minigrad.ops.embedding` - embedding (``Embedding``), and the bags ``EmbeddingBagSum`` / ``EmbeddingBagMax``;
* :mod:`~minigrad.ops.layers` and :mod:`~minigrad.ops.losses` - the fused layers (linear, layer_norm,
  dropout) and losses behind :mod:`minigrad.nn.functional`, which checks their arguments;
* :mod:`~minigrad.ops.activations` - ``torch.nn.functional``'s activations with their parameters:
  softplus, logsigmoid, silu, mish, elu, selu, celu, hardtanh, relu6, leaky_relu, gelu, hardswish,
  hardsigmoid, softshrink, hardshrink, threshold, softsign, tanhshrink;
* :mod:`~minigrad.ops.conv`, :mod:`~minigrad.ops.recurrent`, :mod:`~minigrad.ops.attention`,
  :mod:`~minigrad.ops.masking` - convolution, the recurrent time loop, attention, masks;
* :mod:`~minigrad.ops._promotion` - PyTorch's type promotion, dtype conversion (``to_dtype``)
  and the argument plumbing the families share.

``Tensor``'s methods and operators call these functions, and so do
:mod:`minigrad.nn.functional` and user code. Argument names and defaults follow PyTorch.
"""
from __future__ import annotations

from minigrad.ops._promotion import floating_only, to_dtype, torch_dtype_name
from minigrad.ops.comparison import (
    all, allclose, any, eq, equal, ge, gt, isclose, isfinite, isinf, isnan, le, lt, ne,
)
from minigrad.ops.elementwise import (
    abs, add, ceil, clamp, clamp_max, clamp_min, clip, clone, cos, div, erf, exp, exp2, expm1, floor,
    floor_divide, fmod, frac, log, log1p, log2, log10, maximum, minimum, mul, nan_to_num, neg, pow,
    reciprocal, relu, remainder, round, rsqrt, sigmoid, sign, sin, sqrt, square, sub, tan, tanh, trunc,
    where,
)
from minigrad.ops.embedding import embedding
from minigrad.ops.gather_scatter import gather, index_add, index_select, scatter, scatter_add
from minigrad.ops.indexing import getitem, setitem
from minigrad.ops.linalg import addmm, bmm, einsum, matmul, mm, norm, outer
from minigrad.ops.reduction import (
    amax, amin, argmax, argmin, logsumexp, max, mean, min, std, sum, var,
)
from minigrad.ops.shape import (
    broadcast_to, cat, chunk, diag, expand, flatten, flip, narrow, permute, repeat, repeat_interleave, reshape,
    roll, split, squeeze, stack, transpose, unbind, unflatten, unsqueeze,
)
from minigrad.ops.scan import cumprod, cumsum
from minigrad.ops.softmax import log_softmax, softmax
from minigrad.ops.sorting import argsort, sort, topk
