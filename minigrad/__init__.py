"""minigrad: a small autograd engine on NumPy, with Cython gather/index-add kernels.

Start with :class:`Tensor`, :mod:`minigrad.nn` and :mod:`minigrad.optim`; the
names follow PyTorch, so ``import minigrad as torch``-style code mostly works.
"""
from __future__ import annotations


from minigrad import autograd
from minigrad.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.creation import (
    arange, as_tensor, empty, eye, from_numpy, full, full_like, linspace, multinomial, ones, ones_like, rand,
    rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from minigrad import backends, cuda
from minigrad.devices import device
from minigrad.legacy import (
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
)
from minigrad.ops import (
    abs, add, amax, amin, argmax, argmin, cat, chunk, clamp, clip, clone, cos, div, embedding, exp,
    flatten, log, log_softmax, logsumexp, matmul, max, maximum, mean, min, minimum, mul, neg,
    permute, pow, relu, reshape, sigmoid, sin, softmax, split, sqrt, squeeze, stack, std, sub, sum,
    tanh, transpose, unsqueeze, var, where,
)
from minigrad.ops import (
    all, allclose, any, ceil, clamp_max, clamp_min, eq, equal, erf, exp2, expm1, floor, floor_divide, fmod,
    frac, ge, gt, isclose, isfinite, isinf, isnan, le, log1p, log2, log10, lt, nan_to_num, ne, reciprocal,
    remainder, round, rsqrt, sign, square, tan, trunc,
)
from minigrad.ops import diag, flip, narrow, norm, outer, repeat_interleave, roll, unbind, unflatten
from minigrad import linalg
from minigrad.ops import (
    addmm, argsort, bmm, cumprod, cumsum, einsum, gather, index_add, index_select, mm, return_types, scatter,
    scatter_add, sort, topk,
)
from minigrad.ops import _spellings
from minigrad.ops.masking import masked_fill, tril, triu
from minigrad.random import (
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state,
)
from minigrad.serialization import load, save
from minigrad.size import Size
from minigrad.sparse import SparseTensor
from minigrad.tensor import Tensor

# dtypes, under PyTorch's names; each wraps a NumPy dtype (minigrad.dtypes).
from minigrad import dtypes as _dtypes
from minigrad.dtypes import dtype, finfo, iinfo
float32 = float = _dtypes._by_name("float32")
float64 = double = _dtypes._by_name("float64")
float16 = half = _dtypes._by_name("float16")
int64 = long = _dtypes._by_name("int64")
int32 = int = _dtypes._by_name("int32")
int16 = short = _dtypes._by_name("int16")
int8 = _dtypes._by_name("int8")
uint8 = _dtypes._by_name("uint8")
uint16 = _dtypes._by_name("uint16")
uint32 = _dtypes._by_name("uint32")
uint64 = _dtypes._by_name("uint64")
bool = _dtypes._by_name("bool")

__version__ = "0.1.0"

# NumPy's axis= and keepdims= on the functions whose PyTorch counterparts accept them (all
# that take dim or keepdim, except the two PyTorch writes in Python): see minigrad.ops._spellings.
_spellings.respell_public_names(globals(), written_in_python=("norm", "split"))

# Subpackages reachable as attributes after a bare ``import minigrad``, as ``torch.nn`` and
# ``torch.optim`` are after ``import torch``, but imported on first use: ``import minigrad``
# stays light, and code that never touches ``minigrad.nn`` never pays for it.
_LAZY_SUBMODULES = ("nn", "optim", "utils", "testing", "viz", "course")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib

        # import_module binds the submodule as an attribute of this package, so this runs once.
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":  # the submodule exists but one of its imports failed
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
