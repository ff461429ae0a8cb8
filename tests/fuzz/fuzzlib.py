"""Random programs and hostile inputs for minigrad, checked against PyTorch and against itself.

Three families of cases, each built from one integer seed (so any finding is
reproduced by its family and seed alone):

* ``kernels``: gather / index-add (and the fused EmbeddingBag loops) on hostile
  arrays - every dtype, strided, reversed, read-only, broadcast and unaligned
  layouts, out-of-range and wrapped-around indices, empty and 0-d shapes,
  operands that share memory. Both backends must agree exactly (values, error
  type and message), and agree with ``torch.index_select``/``index_add_``
  wherever PyTorch defines the result.
* ``programs``: a short random program over the public API (elementwise ops,
  reductions, shape ops, integer indexing, embeddings, losses, ...) on random
  float64 leaves, then a backward pass with a random cotangent. Values and
  gradients must match PyTorch's; if PyTorch raises, minigrad must raise an
  error of the same category.
* ``checkpoints``: a random state dict saved, then truncated, bit-flipped or
  its manifest rewritten; loading must round-trip exactly or raise
  :class:`~minigrad.serialization.CheckpointError`, nothing else.

A finding is one of: ``crash`` (an exception no public function documents,
e.g. AttributeError, or the process dying - see ``run.py``), ``wrong-value``,
``wrong-error`` (an error of another category than PyTorch's, or an error where
PyTorch gives a result, or none where PyTorch raises), ``backend-mismatch``.
Differences that are documented in ``docs/differences.rst`` are not findings;
they are listed in :data:`KNOWN_ERROR_EQUIVALENTS`.
"""
from __future__ import annotations

import io
import math
import json
import traceback
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as TF

import minigrad
import minigrad.nn.functional as F
from minigrad import kernels
from minigrad.serialization import CheckpointError

#: The errors a public function may raise for a bad argument. Anything else
#: escaping minigrad is a crash.
API_ERRORS = (TypeError, ValueError, IndexError, RuntimeError, NotImplementedError)

#: (minigrad's error, PyTorch's error) pairs documented in docs/differences.rst.
KNOWN_ERROR_EQUIVALENTS = {
    # kernels.index_add reports a bad index as gather does (IndexError); torch's
    # index_add_ raises RuntimeError for the same index.
    ("IndexError", "RuntimeError"),
}

#: (minigrad's error, PyTorch's error, a phrase of minigrad's message): equivalences that
#: hold for one error only, also documented in docs/differences.rst.
KNOWN_MESSAGE_EQUIVALENTS = {
    # F.embedding with a weight that is not 2-D: PyTorch raises this RuntimeError when the
    # weight does not require grad, and an IndexError from its autograd wrapper when it does.
    ("RuntimeError", "IndexError", "'weight' must be 2-D"),
}


def _known_stricter(mine, theirs) -> bool:
    """minigrad refuses where PyTorch returns a result, on purpose (docs/differences.rst):
    an index out of range into an empty tensor, which PyTorch does not check because there
    is nothing to read."""
    return (isinstance(mine.error, IndexError) and "out of bounds" in str(mine.error)
            and theirs.error is None and getattr(theirs.value, "numel", lambda: 1)() == 0)


@dataclass
class Finding:
    kind: str      # crash | wrong-value | wrong-error | backend-mismatch
    family: str
    seed: int
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.family} seed={self.seed}: {self.detail}"


class _Outcome:
    """What a call did: a value, or an exception (type name and message)."""

    def __init__(self, value=None, error: BaseException | None = None, trace: str = "") -> None:
        self.value, self.error, self.trace = value, error, trace

    @property
    def category(self):
        return None if self.error is None else type(self.error).__name__

    def describe(self) -> str:
        return "ok" if self.error is None else f"{self.category}: {str(self.error)[:200]}"


def _run(fn) -> _Outcome:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _Outcome(value=fn())
    except Exception as exc:  # noqa: BLE001 - classified by the caller
        return _Outcome(error=exc, trace=traceback.format_exc(limit=-3))


def _is_crash(outcome: _Outcome) -> bool:
    return outcome.error is not None and (
        not isinstance(outcome.error, API_ERRORS) or isinstance(outcome.error, RecursionError)
    )


def _same_category(mine: _Outcome, theirs: _Outcome) -> bool:
    a, b = mine.category, theirs.category
    if a == b or (a, b) in KNOWN_ERROR_EQUIVALENTS:
        return True
    if any((a, b) == (x, y) and phrase in str(mine.error) for x, y, phrase in KNOWN_MESSAGE_EQUIVALENTS):
        return True
    return isinstance(mine.error, type(theirs.error))   # e.g. a subclass of ValueError


# ---------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------

_INDEX_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
_ODD_VALUE_DTYPES = [np.float16, np.int64, np.dtype(">f8"), np.complex64, np.bool_]


def _pick(rng, options):
    """One of ``options`` (any objects; ``rng.choice`` would make an array of them)."""
    return options[int(rng.integers(0, len(options)))]


def _layout(rng, a, allow_write=True):
    """``a``'s values in a random memory layout (a view when possible)."""
    kind = str(rng.choice(["c", "c", "fortran", "rev_rows", "rev_cols", "every_other", "readonly",
                           "broadcast", "unaligned"]))
    if a.ndim == 0:
        return a.copy(), "c"
    if kind == "fortran":
        return np.asfortranarray(a), kind
    if kind == "rev_rows":
        return a[::-1].copy()[::-1], kind
    if kind == "rev_cols" and a.ndim >= 2:
        return a[..., ::-1].copy()[..., ::-1], kind
    if kind == "every_other":
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        big[..., ::2] = a
        return big[..., ::2], kind
    if kind == "readonly":
        b = a.copy()
        b.flags.writeable = False
        return b, kind
    if kind == "broadcast" and not allow_write and a.shape[0] > 0 and (a[:1] == a).all():
        return np.broadcast_to(a[:1], a.shape), kind    # zero stride along rows
    if kind == "unaligned" and a.dtype.itemsize > 1 and a.size:
        raw = np.zeros(a.nbytes + 1, np.uint8)
        view = raw[1:].view(a.dtype).reshape(a.shape)  # one byte off its natural alignment
        view[...] = a
        return view, kind
    return a.copy(), "c"


def _indices(rng, n_rows, shape):
    """Indices of a random integer dtype, mostly in range; sometimes one hostile value."""
    dtype = np.dtype(rng.choice(_INDEX_DTYPES))
    info = np.iinfo(dtype)
    hi = min(n_rows, int(info.max))
    idx = rng.integers(0, hi, size=shape) if hi > 0 else np.zeros(shape, np.int64)
    idx = idx.astype(dtype)
    if idx.size and (hi == 0 or rng.random() < 0.15):
        candidates = [n_rows, -1, 2**31 - 1, -(2**31), 2**62, -(2**63), 2**64 - 1, 255, 65535]
        fits = [c for c in candidates if info.min <= c <= info.max]
        idx.reshape(-1)[rng.integers(0, idx.size)] = _pick(rng, fits)
    if rng.random() < 0.04:
        idx = idx.astype(rng.choice([np.float64, np.bool_]))
    return idx


def _kernel_inputs(seed):
    """The arrays of one kernel case, built fresh (aliasing included) from ``seed``."""
    rng = np.random.default_rng(seed)
    op = rng.choice(["gather", "gather_out", "index_add", "bag_sum"])
    n_rows, dim = int(rng.integers(0, 12)), int(rng.integers(0, 6))
    idx_shape = tuple(int(s) for s in rng.integers(0, 5, size=rng.integers(0, 4)))
    odd_dtype = rng.random() < 0.08
    dtype = np.dtype(rng.choice(_ODD_VALUE_DTYPES)) if odd_dtype else np.dtype(rng.choice([np.float32, np.float64]))
    # small integers: every sum is exact in any order, so backends must agree bit for bit
    weight = rng.integers(-8, 9, size=(n_rows, dim)).astype(dtype)
    if rng.random() < 0.05:
        weight = weight.reshape(-1) if rng.random() < 0.5 else weight[None]
    idx = _indices(rng, n_rows, idx_shape)
    alias = rng.random() < 0.12
    case = {"op": op, "alias": None}
    if op == "gather":
        w, _ = _layout(rng, weight, allow_write=False)
        case.update(args=(w, _layout(rng, idx)[0]))
    elif op == "gather_out":
        out_shape = idx_shape + (weight.shape[-1] if weight.ndim else 0,)
        if alias and weight.ndim == 2:
            base = np.zeros((max(weight.shape[0], int(np.prod(idx_shape, dtype=int))) + 2, weight.shape[1]), dtype)
            base[: weight.shape[0]] = weight
            n = int(np.prod(idx_shape, dtype=int))
            start = int(rng.integers(0, base.shape[0] - n + 1))
            out = base[start:start + n].reshape(out_shape)
            case.update(args=(base[: weight.shape[0]], idx, ), kwargs={"out": out}, alias="out~weight")
        elif alias and dim > 0 and math.prod(out_shape) >= idx.size:  # room for idx inside out
            out = np.zeros(out_shape, np.float64)
            view = out.reshape(-1).view(np.int64)[: idx.size].reshape(idx_shape)
            view[...] = np.clip(idx.astype(np.int64), 0, max(n_rows - 1, 0)) if idx.dtype.kind in "iu" else 0
            case.update(args=(weight.astype(np.float64), view), kwargs={"out": out}, alias="idx~out")
        else:
            out = np.full(out_shape, 99, dtype) if rng.random() < 0.9 else np.zeros(out_shape, np.float32)
            if rng.random() < 0.1:
                out = np.asfortranarray(out)
            case.update(args=(_layout(rng, weight, allow_write=False)[0], _layout(rng, idx)[0]), kwargs={"out": out})
    elif op == "index_add":
        src = rng.integers(-8, 9, size=idx_shape + (weight.shape[-1] if weight.ndim else 0,)).astype(dtype)
        out = weight.copy()
        if alias and out.ndim == 2 and out.size:
            choice = rng.choice(["src", "idx"])
            if choice == "src" and out.shape[0] >= 1:
                n = int(np.prod(idx_shape, dtype=int))
                src_view = np.resize(out, (n, out.shape[1]))   # same values; then an actual view
                src_view = out[: min(n, out.shape[0])]
                idx = np.zeros((src_view.shape[0],), np.int64)
                case.update(args=(out, idx, src_view), alias="src~out")
            else:
                flat = out.reshape(-1)
                if flat.dtype.itemsize == 8:
                    idx_view = flat.view(np.int64)[:1]
                    idx_view[...] = 0
                    case.update(args=(out, idx_view, np.ones((1, out.shape[1]), out.dtype)), alias="idx~out")
                else:
                    case.update(args=(out, idx, src))
        else:
            if out.ndim == 2 and rng.random() < 0.25:
                big = np.zeros((out.shape[0], 2 * out.shape[1]), out.dtype)
                big[:, ::2] = out
                out = big[:, ::2]
            if rng.random() < 0.04:
                out.flags.writeable = False
            case.update(args=(out, _layout(rng, idx)[0], _layout(rng, src, allow_write=False)[0]))
    else:   # bag_sum: the fused EmbeddingBag loop, with hostile bags
        n = int(rng.integers(0, 8))
        flat_idx = rng.integers(0, max(n_rows, 1), n).astype(rng.choice([np.int32, np.int64]))
        if rng.random() < 0.15 and n:
            flat_idx[rng.integers(0, n)] = rng.choice([n_rows, -1])
        n_bags = int(rng.integers(0, 4))
        starts = rng.integers(0, n + 1, n_bags).astype(np.int64)
        lengths = rng.integers(0, n + 1, n_bags).astype(np.int64)
        lengths = np.minimum(lengths, n - starts)
        if rng.random() < 0.2 and n_bags:
            b = rng.integers(0, n_bags)
            starts[b], lengths[b] = rng.choice([(-1, 1), (1, 2**63 - 1), (2**62, 2**62), (n, 1), (0, -1)])
        w = weight if weight.ndim == 2 and weight.dtype in (np.float32, np.float64) \
            else rng.integers(-8, 9, size=(n_rows, dim)).astype(np.float64)
        case.update(args=(w, flat_idx, starts, lengths))
    case.setdefault("kwargs", {})
    return case


def _call_kernel(case):
    op = case["op"]
    if op in ("gather", "gather_out"):
        return kernels.gather(*case["args"], **case["kwargs"])
    if op == "index_add":
        return kernels.index_add(*case["args"])
    return kernels.bag_sum(*case["args"])


def _bag_reference(weight, idx, starts, lengths):
    n = idx.shape[0]
    for s, l in zip(starts.tolist(), lengths.tolist()):
        if s < 0 or l < 0 or s > n or l > n - s:
            return _Outcome(error=ValueError("bag outside idx"))
    if idx.size and (idx.min() < 0 or idx.max() >= weight.shape[0]):
        return _Outcome(error=IndexError("index out of range"))
    out = np.zeros((len(starts), weight.shape[1]), weight.dtype)
    for b, (s, l) in enumerate(zip(starts, lengths)):
        for i in range(s, s + l):
            out[b] += weight[idx[i]]
    return _Outcome(value=out)


def _torch_kernel_reference(case):
    """PyTorch's answer where it defines one for these arrays, else None."""
    op, args = case["op"], case["args"]
    if op == "bag_sum":
        return _bag_reference(*args)
    if op in ("gather", "gather_out"):
        weight, idx = np.asarray(args[0]), np.asarray(args[1])
    else:
        weight, idx = np.asarray(args[0]), np.asarray(args[1])
    if weight.dtype not in (np.float32, np.float64) or weight.ndim != 2 or idx.dtype.kind not in "iu" \
            or weight.shape[1] == 0 or (op == "index_add" and weight.shape[0] == 0):
        # Outside the kernels' domain (their own errors are checked backend against
        # backend), or an empty (V, D) where torch's index_add_ skips its index check
        # (documented in docs/differences.rst).
        return None
    if op == "gather_out":
        out = case["kwargs"]["out"]
        if not (np.shares_memory(out, weight) or np.shares_memory(out, idx)) and (
                out.dtype != weight.dtype or out.shape != idx.shape + (weight.shape[1],)
                or not out.flags.c_contiguous or not out.flags.writeable):
            return None  # an unusable out: the kernels' own error, checked backend against backend
    if op == "index_add" and not args[0].flags.writeable:
        return None  # likewise a read-only out
    # The kernel door checks overlapping operands before it reads a single index: so does the
    # reference, or a call that is wrong both ways would expect the other error.
    if op == "gather_out" and (np.shares_memory(case["kwargs"]["out"], weight)
                               or np.shares_memory(case["kwargs"]["out"], idx)):
        return _Outcome(error=RuntimeError("overlap"))
    if op == "index_add" and (np.shares_memory(args[0], args[2]) or np.shares_memory(args[0], idx)):
        return _Outcome(error=RuntimeError("overlap"))
    if idx.dtype == np.uint64 and idx.size and idx.max() > 2**63 - 1:
        return _Outcome(error=IndexError("index out of range"))
    t_idx = torch.from_numpy(idx.astype(np.int64).reshape(-1))
    if op == "gather":
        return _run(lambda: torch.index_select(torch.from_numpy(weight.copy()), 0, t_idx)
                    .reshape(idx.shape + (weight.shape[1],)).numpy())
    if op == "gather_out":
        out = case["kwargs"]["out"]
        if out.dtype != weight.dtype or out.shape != idx.shape + (weight.shape[1],) \
                or not out.flags.c_contiguous or not out.flags.writeable:
            return None
        return _run(lambda: torch.index_select(torch.from_numpy(weight.copy()), 0, t_idx)
                    .reshape(out.shape).numpy())
    out, src = args[0], np.asarray(args[2])
    if src.dtype != weight.dtype or src.shape != idx.shape + (weight.shape[1],) or not out.flags.writeable:
        return None
    t_out = torch.from_numpy(np.array(out, copy=True))
    return _run(lambda: t_out.index_add_(0, t_idx, torch.from_numpy(src.reshape(idx.size, weight.shape[1]).copy()))
                .numpy())


def _kernel_result(case, outcome):
    """The values a kernel call produced: its return value and the array it wrote."""
    if outcome.error is not None:
        return None
    return None if outcome.value is None else np.array(outcome.value, copy=True)


def kernel_case(seed: int) -> list:
    findings = []
    results = {}
    for backend in kernels.available_backends():
        case = _kernel_inputs(seed)
        with kernels.use_backend(backend):
            outcome = _run(lambda: _call_kernel(case))
        if case["op"] == "bag_sum" and outcome.error is None and outcome.value is None:
            outcome = _Outcome(value="declined")   # the NumPy backend has no fused loop
        results[backend] = (case, outcome)
        if _is_crash(outcome):
            findings.append(Finding("crash", "kernels", seed, f"{backend} {case['op']}: {outcome.trace}"))
    if findings:
        return findings
    if len(results) == 2:
        (_, a), (_, b) = results["cython"], results["numpy"]
        if results["cython"][0]["op"] != "bag_sum":
            if a.describe() != b.describe():
                findings.append(Finding("backend-mismatch", "kernels", seed,
                                        f"cython -> {a.describe()} | numpy -> {b.describe()}"))
            elif a.error is None and not np.array_equal(_kernel_result(None, a), _kernel_result(None, b)):
                findings.append(Finding("backend-mismatch", "kernels", seed, "different values"))
    case, mine = results.get("cython", results["numpy"])
    if case["op"] == "bag_sum" and isinstance(mine.value, str):
        return findings
    expected = _torch_kernel_reference(_kernel_inputs(seed))   # fresh arrays: the call wrote into its own
    if expected is None or findings:
        return findings
    if (mine.error is None) != (expected.error is None):
        findings.append(Finding("wrong-error", "kernels", seed,
                                f"{case['op']}: minigrad -> {mine.describe()} | torch -> {expected.describe()}"))
    elif mine.error is not None:
        if not _same_category(mine, expected):
            findings.append(Finding("wrong-error", "kernels", seed,
                                    f"{case['op']}: minigrad -> {mine.describe()} | torch -> {expected.describe()}"))
    elif not np.allclose(np.asarray(mine.value, np.float64), np.asarray(expected.value, np.float64),
                         rtol=1e-6, atol=1e-6, equal_nan=True):
        findings.append(Finding("wrong-value", "kernels", seed, f"{case['op']}: values differ from torch"))
    return findings


# ---------------------------------------------------------------------------
# Random programs over the public API
# ---------------------------------------------------------------------------

def _pair(mg_fn, t_fn):
    return mg_fn, t_fn


def _dims(x):
    return max(x.ndim, 1)


# Each entry: name -> (arity, builder). A builder gets (rng, x[, y]) as shapes/ndims
# and returns (minigrad function, torch function) of the tensors.
def _unary_ops():
    return {
        "neg": lambda rng, x: (lambda a: -a, lambda a: -a),
        "exp": lambda rng, x: (minigrad.exp, torch.exp),
        "log": lambda rng, x: (minigrad.log, torch.log),
        "tanh": lambda rng, x: (minigrad.tanh, torch.tanh),
        "sigmoid": lambda rng, x: (minigrad.sigmoid, torch.sigmoid),
        "relu": lambda rng, x: (minigrad.relu, torch.relu),
        "abs": lambda rng, x: (minigrad.abs, torch.abs),
        "sqrt": lambda rng, x: (minigrad.sqrt, torch.sqrt),
        "square": lambda rng, x: (lambda a: a * a, lambda a: a * a),
        "pow": lambda rng, x: _pow(rng),
        "clamp": lambda rng, x: _clamp(rng),
        "leaky_relu": lambda rng, x: (lambda a: F.leaky_relu(a, 0.1), lambda a: TF.leaky_relu(a, 0.1)),
        "gelu": lambda rng, x: (F.gelu, TF.gelu),
        "softmax": lambda rng, x: _with_dim(rng, x, F.softmax, TF.softmax),
        "log_softmax": lambda rng, x: _with_dim(rng, x, F.log_softmax, TF.log_softmax),
        "sum": lambda rng, x: _reduce(rng, x, "sum"),
        "mean": lambda rng, x: _reduce(rng, x, "mean"),
        "amax": lambda rng, x: _reduce(rng, x, "amax"),
        "logsumexp": lambda rng, x: _reduce(rng, x, "logsumexp"),
        "var": lambda rng, x: _reduce(rng, x, "var"),
        "std": lambda rng, x: _reduce(rng, x, "std"),
        "max_dim": lambda rng, x: _max_dim(rng, x),
        "reshape": lambda rng, x: (lambda a: a.reshape(-1), lambda a: a.reshape(-1)),
        "transpose": lambda rng, x: _transpose(rng, x),
        "unsqueeze": lambda rng, x: (lambda a: a.unsqueeze(0), lambda a: a.unsqueeze(0)),
        "squeeze": lambda rng, x: (lambda a: a.squeeze(), lambda a: a.squeeze()),
        "cat_self": lambda rng, x: _cat(rng, x),
        "index_rows": lambda rng, x: _index_rows(rng, x),
        "embedding": lambda rng, x: _embedding(rng, x),
        "embedding_bag": lambda rng, x: _embedding_bag(rng, x),
        "layer_norm": lambda rng, x: _layer_norm(rng, x),
        "cross_entropy": lambda rng, x: _cross_entropy(rng, x),
        "sin": lambda rng, x: (minigrad.sin, torch.sin),
        "cos": lambda rng, x: (minigrad.cos, torch.cos),
        "log1p": lambda rng, x: (minigrad.log1p, torch.log1p),
        "expm1": lambda rng, x: (minigrad.expm1, torch.expm1),
        "erf": lambda rng, x: (minigrad.erf, torch.erf),
        "silu": lambda rng, x: (F.silu, TF.silu),
        "elu": lambda rng, x: (F.elu, _vectorised(TF.elu)),
        "softplus": lambda rng, x: (F.softplus, TF.softplus),
        "mish": lambda rng, x: (F.mish, TF.mish),
        "hardtanh": lambda rng, x: (F.hardtanh, _vectorised(TF.hardtanh)),
        "logsigmoid": lambda rng, x: (F.logsigmoid, TF.logsigmoid),
        "cumsum": lambda rng, x: _with_dim(rng, x, minigrad.cumsum, torch.cumsum),
        "cumprod": lambda rng, x: _with_dim(rng, x, minigrad.cumprod, torch.cumprod),
        "sort": lambda rng, x: _sort(rng, x),
        "flip": lambda rng, x: _flip(rng, x),
        "roll": lambda rng, x: _roll(rng, x),
        "tril": lambda rng, x: _diagonal_part(rng, "tril"),
        "triu": lambda rng, x: _diagonal_part(rng, "triu"),
        "gather_dim": lambda rng, x: _gather_dim(rng, x),
        "einsum": lambda rng, x: _einsum(rng, x),
        "mse_to_zero": lambda rng, x: (lambda a: F.mse_loss(a, a.detach() * 0), lambda a: TF.mse_loss(a, a.detach() * 0)),
        "smooth_l1_to_zero": lambda rng, x: (lambda a: F.smooth_l1_loss(a, a.detach() * 0),
                                             lambda a: TF.smooth_l1_loss(a, a.detach() * 0)),
    }


def _binary_ops():
    return {
        "add": (lambda a, b: a + b, lambda a, b: a + b),
        "sub": (lambda a, b: a - b, lambda a, b: a - b),
        "mul": (lambda a, b: a * b, lambda a, b: a * b),
        "div": (lambda a, b: a / b, lambda a, b: a / b),
        "maximum": (minigrad.maximum, torch.maximum),
        "minimum": (minigrad.minimum, torch.minimum),
        "where_gt": (lambda a, b: minigrad.where(a > b, a, b), lambda a, b: torch.where(a > b, a, b)),
        "matmul": (minigrad.matmul, torch.matmul),
    }


def _pow(rng):
    e = float(rng.choice([2.0, 3.0, 0.5, -1.0, 1.5]))
    return (lambda a: a ** e, lambda a: a ** e)


def _clamp(rng):
    lo, hi = sorted(rng.normal(size=2).tolist())
    return (lambda a: minigrad.clamp(a, lo, hi), lambda a: torch.clamp(a, lo, hi))


def _with_dim(rng, x, mg, th):
    d = int(rng.integers(-_dims(x), _dims(x)))
    return (lambda a: mg(a, dim=d), lambda a: th(a, dim=d))


def _reduce(rng, x, name):
    if rng.random() < 0.3 or x.ndim == 0:
        if name in ("amax", "logsumexp"):
            d = 0
            return (lambda a: getattr(minigrad, name)(a, d), lambda a: getattr(torch, name)(a, d))
        return (lambda a: getattr(a, name)(), lambda a: getattr(a, name)())
    d = int(rng.integers(-x.ndim, x.ndim))
    keep = bool(rng.integers(0, 2))
    return (lambda a: getattr(a, name)(d, keepdim=keep) if name not in ("amax", "logsumexp")
            else getattr(minigrad, name)(a, d, keepdim=keep),
            lambda a: getattr(a, name)(d, keepdim=keep) if name not in ("amax", "logsumexp")
            else getattr(torch, name)(a, d, keepdim=keep))


def _vectorised(torch_fn):
    """PyTorch's ``torch_fn`` computed inside a longer tensor.

    PyTorch runs a scalar loop over short tensors and vector instructions over long ones;
    at a NaN input the two give elu and hardtanh different gradients. minigrad gives the
    vector loop's (docs/differences.rst), so that is the reference.
    """
    def call(a):
        flat = a.reshape(-1)
        return torch_fn(torch.cat([flat, flat.new_zeros(64)]))[:flat.shape[0]].reshape(a.shape)
    return call


def _sort(rng, x):
    # Values only: the order of tied elements (and so the indices) is not specified by either.
    d, desc = int(rng.integers(-_dims(x), _dims(x))), bool(rng.integers(0, 2))
    return (lambda a: minigrad.sort(a, dim=d, descending=desc)[0],
            lambda a: torch.sort(a, dim=d, descending=desc)[0])


def _flip(rng, x):
    dims = sorted({int(d) for d in rng.integers(-_dims(x), _dims(x), size=int(rng.integers(1, 3)))})
    return (lambda a: minigrad.flip(a, dims), lambda a: torch.flip(a, dims))


def _roll(rng, x):
    shift = int(rng.integers(-3, 4))
    if rng.random() < 0.3:
        return (lambda a: minigrad.roll(a, shift), lambda a: torch.roll(a, shift))
    d = int(rng.integers(-_dims(x), _dims(x)))
    return (lambda a: minigrad.roll(a, shift, d), lambda a: torch.roll(a, shift, d))


def _diagonal_part(rng, name):
    k = int(rng.integers(-2, 3))   # a tensor below 2-D is refused by both
    return (lambda a: getattr(minigrad, name)(a, k), lambda a: getattr(torch, name)(a, k))


def _gather_dim(rng, x):
    d = int(rng.integers(-_dims(x), _dims(x)))
    n = x.shape[d] if x.ndim else 1
    shape = list(x.shape) if x.ndim else []
    if shape:
        shape[d] = int(rng.integers(0, 4))
    idx = rng.integers(0, max(n, 1), size=shape)
    if rng.random() < 0.1 and idx.size:
        idx.reshape(-1)[0] = n       # out of range: both must raise
    return (lambda a: minigrad.gather(a, d, minigrad.tensor(idx)), lambda a: torch.gather(a, d, torch.from_numpy(idx)))


def _einsum(rng, x):
    # A random permutation of a random subset of the input's letters: transposes, sums, traces of nothing.
    letters = "abcd"[:x.ndim]
    keep = [c for c in letters if rng.random() < 0.6]
    out = "".join(rng.permutation(keep)) if keep else ""
    spec = f"{letters}->{out}"
    return (lambda a: minigrad.einsum(spec, a), lambda a: torch.einsum(spec, a))


def _max_dim(rng, x):
    d = int(rng.integers(-_dims(x), _dims(x)))
    return (lambda a: a.max(d)[0], lambda a: a.max(d)[0])


def _transpose(rng, x):
    if x.ndim < 2:
        return (lambda a: a.t() if a.ndim <= 2 else a, lambda a: a.t() if a.ndim <= 2 else a)
    i, j = (int(v) for v in rng.integers(-x.ndim, x.ndim, 2))
    return (lambda a: a.transpose(i, j), lambda a: a.transpose(i, j))


def _cat(rng, x):
    d = int(rng.integers(-_dims(x), _dims(x)))
    return (lambda a: minigrad.cat([a, a * 2], dim=d), lambda a: torch.cat([a, a * 2], dim=d))


def _index_rows(rng, x):
    n = x.shape[0] if x.ndim else 1
    idx = rng.integers(0, max(n, 1), size=int(rng.integers(0, 6)))
    if rng.random() < 0.1:
        idx = np.append(idx, n)      # out of range: both must raise
    return (lambda a: a[minigrad.tensor(idx)], lambda a: a[torch.from_numpy(idx)])


def _embedding(rng, x):
    # x is the weight; it must be 2-D
    v = x.shape[0] if x.ndim else 0
    idx = rng.integers(0, max(v, 1), size=tuple(rng.integers(0, 4, size=rng.integers(1, 3))))
    pad = int(rng.integers(0, v)) if v and rng.random() < 0.3 else None
    return (lambda a: F.embedding(minigrad.tensor(idx), a, padding_idx=pad),
            lambda a: TF.embedding(torch.from_numpy(idx), a, padding_idx=pad))


def _embedding_bag(rng, x):
    v = x.shape[0] if x.ndim else 0
    n = int(rng.integers(0, 8))
    idx = rng.integers(0, max(v, 1), size=n)
    offsets = np.sort(rng.integers(0, n + 1, size=int(rng.integers(1, 4))))
    offsets[0] = 0
    mode = str(rng.choice(["sum", "mean", "max"]))
    return (lambda a: F.embedding_bag(minigrad.tensor(idx), a, minigrad.tensor(offsets), mode=mode),
            lambda a: TF.embedding_bag(torch.from_numpy(idx), a, torch.from_numpy(offsets), mode=mode))


def _layer_norm(rng, x):
    shape = tuple(x.shape[-1:]) if x.ndim else ()
    return (lambda a: F.layer_norm(a, shape), lambda a: TF.layer_norm(a, shape))


def _cross_entropy(rng, x):
    if x.ndim != 2:
        return (lambda a: F.cross_entropy(a.reshape(1, -1), minigrad.tensor([0])),
                lambda a: TF.cross_entropy(a.reshape(1, -1), torch.tensor([0])))
    n, c = x.shape
    target = rng.integers(0, max(c, 1), size=n)
    ignore = int(rng.choice([-100, 0])) if rng.random() < 0.3 else -100
    smoothing = float(rng.choice([0.0, 0.1])) if rng.random() < 0.3 else 0.0
    reduction = str(rng.choice(["mean", "sum", "none"]))
    return (lambda a: F.cross_entropy(a, minigrad.tensor(target), ignore_index=ignore,
                                      label_smoothing=smoothing, reduction=reduction),
            lambda a: TF.cross_entropy(a, torch.from_numpy(target), ignore_index=ignore,
                                       label_smoothing=smoothing, reduction=reduction))


_SHAPES = [(), (1,), (3,), (4, 3), (2, 4, 3), (3, 1), (1, 3), (0, 3), (4, 0)]


def _leaf_values(rng, shape, specials):
    a = rng.normal(size=shape)
    if specials and a.size and rng.random() < 0.3:
        flat = a.reshape(-1)
        k = rng.integers(0, a.size)
        flat[k] = rng.choice([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e-300])
    return a


def _to_array(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def _known_value_difference(steps, leaves, mine, theirs) -> bool:
    """A documented difference (docs/differences.rst), not a finding:

    * layer_norm of values whose squares overflow (|x| ≥ 1e150 among the leaves): PyTorch's
      variance overflows and its result is NaN or 0; minigrad rescales and is right;
    * cross_entropy with no classes at all and label smoothing, and ignored rows whose
      softmax is undefined: PyTorch has NaN where minigrad's ignored rows are exactly 0.
    """
    a, b = np.asarray(mine, np.float64), np.asarray(theirs, np.float64)
    if a.shape != b.shape:
        return False
    if any(step.startswith("layer_norm") for step in steps):
        with np.errstate(invalid="ignore"):
            return any(np.any(np.abs(v[np.isfinite(v)]) >= 1e150) for v in leaves)
    if any(step.startswith("cross_entropy") for step in steps):
        differ = ~np.isclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True)
        return bool(np.all(np.isnan(b[differ])))
    return False


def _close(a, b) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True)


def program_case(seed: int, specials: bool = True) -> list:
    rng = np.random.default_rng(seed)
    base = _SHAPES[int(rng.integers(0, len(_SHAPES)))]
    shapes = [base] + [tuple(s if rng.random() < 0.7 else 1 for s in base[int(rng.integers(0, len(base) + 1)):])
                       for _ in range(int(rng.integers(0, 2)))]
    values = [_leaf_values(rng, s, specials) for s in shapes]
    mg_leaves = [minigrad.tensor(v, requires_grad=True) for v in values]
    t_leaves = [torch.tensor(v, requires_grad=True) for v in values]
    unary, binary = _unary_ops(), _binary_ops()
    steps = []
    mg_x, t_x = mg_leaves[0], t_leaves[0]
    for _ in range(int(rng.integers(1, 5))):
        if rng.random() < 0.3 and len(mg_leaves) > 1 or rng.random() < 0.15:
            name = str(rng.choice(sorted(binary)))
            k = int(rng.integers(0, len(mg_leaves)))
            mg_fn, t_fn = binary[name]
            mg_y, t_y = mg_leaves[k], t_leaves[k]
            swap = rng.random() < 0.3
            mg_call = (lambda f=mg_fn, a=mg_x, b=mg_y: f(b, a) if swap else f(a, b))
            t_call = (lambda f=t_fn, a=t_x, b=t_y: f(b, a) if swap else f(a, b))
            steps.append(f"{name}(x, leaf{k}{', swapped' if swap else ''})")
        else:
            name = str(rng.choice(sorted(unary)))
            mg_fn, t_fn = unary[name](rng, t_x.detach())
            mg_call = (lambda f=mg_fn, a=mg_x: f(a))
            t_call = (lambda f=t_fn, a=t_x: f(a))
            steps.append(name)
        mine, theirs = _run(mg_call), _run(t_call)
        program = " -> ".join(steps)
        shapes_text = f"leaves {shapes}"
        if _is_crash(mine):
            return [Finding("crash", "programs", seed, f"{program} on {shapes_text}: {mine.trace}")]
        if _known_stricter(mine, theirs):
            return []
        if (mine.error is None) != (theirs.error is None) or (mine.error is not None and not _same_category(mine, theirs)):
            return [Finding("wrong-error", "programs", seed,
                            f"{program} on {shapes_text}: minigrad -> {mine.describe()} | torch -> {theirs.describe()}")]
        if mine.error is not None:
            return []   # both refused the program, with the same kind of error
        mg_x, t_x = mine.value, theirs.value
        if not _close(_to_array(mg_x), _to_array(t_x)) \
                and not _known_value_difference(steps, values, _to_array(mg_x), _to_array(t_x)):
            return [Finding("wrong-value", "programs", seed, f"{program} on {shapes_text}: forward values differ")]
    # Backward with a random cotangent, through every leaf that took part.
    cot = rng.normal(size=tuple(t_x.shape))
    mine = _run(lambda: (mg_x * minigrad.tensor(cot)).sum().backward())
    theirs = _run(lambda: (t_x * torch.tensor(cot)).sum().backward())
    program = " -> ".join(steps) + " -> backward"
    if _is_crash(mine):
        return [Finding("crash", "programs", seed, f"{program} on leaves {shapes}: {mine.trace}")]
    if (mine.error is None) != (theirs.error is None):
        return [Finding("wrong-error", "programs", seed,
                        f"{program} on leaves {shapes}: minigrad -> {mine.describe()} | torch -> {theirs.describe()}")]
    if mine.error is not None:
        return []
    for k, (a, b) in enumerate(zip(mg_leaves, t_leaves)):
        ga = None if a.grad is None else _to_array(a.grad)
        gb = None if b.grad is None else _to_array(b.grad)
        if (ga is None) != (gb is None) and not (ga is not None and not np.any(ga)) \
                and not (gb is not None and not np.any(gb)):
            return [Finding("wrong-value", "programs", seed, f"{program} on leaves {shapes}: leaf{k} grad None vs set")]
        if ga is not None and gb is not None and not _close(ga, gb) \
                and not _known_value_difference(steps, values, ga, gb):
            return [Finding("wrong-value", "programs", seed, f"{program} on leaves {shapes}: leaf{k} gradient differs")]
    return []


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------

def _state(rng):
    state = {}
    for i in range(int(rng.integers(1, 5))):
        shape = tuple(int(s) for s in rng.integers(0, 5, size=rng.integers(0, 3)))
        kind = rng.choice(["tensor", "param", "array", "int", "list", "sparse"])
        if kind == "tensor":
            state[f"t{i}"] = minigrad.tensor(rng.normal(size=shape))
        elif kind == "param":
            state[f"p{i}"] = minigrad.nn.Parameter(rng.normal(size=shape).astype(np.float32))
        elif kind == "array":
            state[f"a{i}"] = rng.integers(-5, 5, size=shape)
        elif kind == "int":
            state[i] = int(rng.integers(-2**40, 2**40))
        elif kind == "list":
            state[f"l{i}"] = [float(rng.normal()), "s", None, (True, 3)]
        else:
            idx = rng.integers(0, 6, size=int(rng.integers(0, 4)))
            state[f"s{i}"] = minigrad.sparse.SparseTensor(idx, rng.normal(size=(len(idx), 2)), (6, 2))
    if rng.random() < 0.3 and any(isinstance(v, minigrad.Tensor) for v in state.values()):
        key = next(k for k, v in state.items() if isinstance(v, minigrad.Tensor))
        state["tied"] = state[key]
    return state


def _equal_state(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, minigrad.Tensor):
        return a.dtype == b.dtype and np.array_equal(a.numpy() if not a.requires_grad else a.detach().numpy(),
                                                     b.detach().numpy())
    if isinstance(a, minigrad.sparse.SparseTensor):
        return a.shape == b.shape and np.array_equal(a._idx, b._idx) and np.array_equal(a._val, b._val)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(_equal_state(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal_state(x, y) for x, y in zip(a, b))
    return a == b


def _mutate_manifest(rng, raw):
    """The archive with its JSON manifest rewritten in a random, plausible-looking way."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(raw))
    arrays = {n[:-4]: np.load(io.BytesIO(src.read(n)), allow_pickle=False) for n in src.namelist()}
    manifest = json.loads(str(arrays["__manifest__"]))

    def walk(node, depth=0):
        if isinstance(node, dict):
            if node and rng.random() < 0.15:
                key = _pick(rng, sorted(node))
                node[key] = _pick(rng, [None, 7, -1, "x", [], {}, [1, 2], True, 2**70, 1.5, "a0", {"t": "none"}])
            for v in list(node.values()):
                walk(v, depth + 1)
        elif isinstance(node, list):
            for v in node:
                walk(v, depth + 1)

    walk(manifest)
    arrays["__manifest__"] = np.array(json.dumps(manifest))
    if rng.random() < 0.2:
        victim = rng.choice(sorted(arrays))
        if victim != "__manifest__":
            arrays[victim] = _pick(rng, [np.array([2**40]), np.array([1.5]), np.zeros((2, 2)), np.array(-1)])
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def checkpoint_case(seed: int) -> list:
    rng = np.random.default_rng(seed)
    state = _state(rng)
    buf = io.BytesIO()
    minigrad.save(state, buf)
    raw = buf.getvalue()
    loaded = _run(lambda: minigrad.load(io.BytesIO(raw)))
    if loaded.error is not None or not _equal_state(state, loaded.value):
        return [Finding("wrong-value", "checkpoints", seed, f"round trip failed: {loaded.describe()}")]
    tied_ok = "tied" not in state or any(loaded.value["tied"] is v for k, v in loaded.value.items() if k != "tied")
    if not tied_ok:
        return [Finding("wrong-value", "checkpoints", seed, "tied tensor came back as a copy")]
    how = rng.choice(["truncate", "flip", "manifest"])
    if how == "truncate":
        damaged = raw[: int(rng.integers(0, len(raw)))]
    elif how == "flip":
        damaged = bytearray(raw)
        for _ in range(int(rng.integers(1, 4))):
            damaged[int(rng.integers(0, len(raw)))] ^= int(rng.integers(1, 256))
        damaged = bytes(damaged)
    else:
        damaged = _mutate_manifest(rng, raw)
    outcome = _run(lambda: minigrad.load(io.BytesIO(damaged)))
    if outcome.error is not None and not isinstance(outcome.error, CheckpointError):
        return [Finding("crash", "checkpoints", seed, f"{how}: {type(outcome.error).__name__}: "
                                                      f"{outcome.error} {outcome.trace}")]
    return []


FAMILIES = {"kernels": kernel_case, "programs": program_case, "checkpoints": checkpoint_case}


def run_case(family: str, seed: int, **options) -> list:
    """Every finding of one case (an empty list when all is well)."""
    try:
        return FAMILIES[family](seed, **options)
    except Exception:  # noqa: BLE001 - a bug in the harness itself is reported, not hidden
        return [Finding("harness-error", family, seed, traceback.format_exc(limit=-4))]
