"""Integer and bool inputs to every op-table op get PyTorch's answer or PyTorch's error.

Each sample of each entry in ``tests/op_table_*.py`` is run again with its
floating-point arrays turned into int64, int32, uint8 and bool arrays (all of them,
and only the first, which exercises mixed-dtype promotion). Where PyTorch returns a
result, minigrad must return one of the same dtype, shape and values (integer
``sigmoid`` is float32, not integer zeros); where PyTorch raises, minigrad must raise
the same class of error (``NotImplementedError`` is a ``RuntimeError`` in Python).
"""
from __future__ import annotations

import importlib
import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad

sys.path.insert(0, str(pathlib.Path(__file__).parent))

TABLE_MODULES = sorted(p.stem for p in pathlib.Path(__file__).parent.glob("op_table_*.py"))
OPS = [op for name in TABLE_MODULES for op in importlib.import_module(name).OPS]
DTYPES = [np.int64, np.int32, np.uint8, np.bool_]
# Entries whose ``ref`` reproduces the op's values rather than calling PyTorch's function:
# here PyTorch's own function decides which dtypes are accepted.
TORCH_FUNCTION = {"nn.dropout": lambda x, p, seed: torch.nn.functional.dropout(x, p)}


def _as(a: np.ndarray, dtype) -> np.ndarray:
    """A float sample array as ``dtype``: small integers (|x| ≤ 9; uint8 non-negative), or x > 0."""
    if dtype is np.bool_:
        return np.asarray(a > 0)
    v = np.round(np.asarray(a) * 3)
    return np.asarray(np.abs(v) if dtype is np.uint8 else v).astype(dtype)


def _args(sample, dtype, only_first):
    """The sample's arrays with the floating ones converted (plain C-order arrays for both libraries)."""
    out, converted = [], False
    for a in sample.args:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f" and not (only_first and converted):
            a, converted = _as(a, dtype), True
        out.append(np.array(a, order="C") if isinstance(a, np.ndarray) else a)
    return out, converted


def _run(lib, fn, args, kwargs):
    tensor = torch.tensor if lib is torch else minigrad.tensor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's 0/0 warnings are not the subject here
        try:
            out = fn(*[tensor(a) if isinstance(a, np.ndarray) else a for a in args], **kwargs)
        except Exception as e:  # noqa: BLE001 - the error's class is what is compared
            return e
    return out.detach().numpy() if lib is torch else out.numpy()


# Deliberate differences (docs/differences.rst): these window and normalisation ops compute
# on floating-point tensors only. Where PyTorch computes integer convolutions or pools,
# minigrad refuses with an error (a RuntimeError, NotImplementedError included), never a result.
FLOAT_ONLY = ("conv", "fold", "unfold", "pool", "batch_norm")


def _compare(op, sample, dtype, only_first):
    args, converted = _args(sample, dtype, only_first)
    if not converted:
        return None
    got = _run(minigrad, op.op, args, sample.kwargs)
    what = f"{np.dtype(dtype).name} ({'first' if only_first else 'all'} float inputs)"
    if any(key in op.name for key in FLOAT_ONLY):
        return None if isinstance(got, RuntimeError) else f"{what}: minigrad gives {got!r}, not an error"
    ref = _run(torch, TORCH_FUNCTION.get(op.name, op.ref), args, sample.kwargs)
    if isinstance(ref, Exception):
        if isinstance(got, type(ref)):
            return None
        shown = f"{type(got).__name__}: {got}" if isinstance(got, Exception) else f"a {got.dtype} result"
        return f"{what}: torch raises {type(ref).__name__}: {str(ref).splitlines()[0]!r}; minigrad gives {shown}"
    if isinstance(got, Exception):
        return f"{what}: torch gives {ref.dtype}; minigrad raises {type(got).__name__}: {got}"
    if got.dtype != ref.dtype or got.shape != ref.shape:
        return f"{what}: torch gives {ref.dtype} {ref.shape}, minigrad {got.dtype} {got.shape}"
    if not np.allclose(got.astype(np.float64), ref.astype(np.float64), rtol=op.float32_rtol, atol=op.float32_atol,
                       equal_nan=True):
        return f"{what}: values differ: torch {ref.tolist()} minigrad {got.tolist()}"
    return None


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
@settings(max_examples=8, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_integer_and_bool_inputs_follow_pytorch(op, data):
    sample = data.draw(op.samples(), label="sample")
    problems = [p for dtype in DTYPES for first in (False, True) if (p := _compare(op, sample, dtype, first))]
    assert not problems, "\n".join(problems)


_WHERE_OPERANDS = [
    (np.array([1, 2]), 1.0), (1.0, np.array([1, 2])), (np.array([1, 2]), np.array([1.0, 2.0], np.float32)),
    (np.array([1, 2], np.int32), 3), (np.array([1.0, 2.0], np.float32), np.array([1, 2])),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0], np.float32)), (np.array(1.0), np.array([1.0, 2.0], np.float32)),
    (1.0, 0.0), (1, 0), (1, 0.5), (True, False), (np.array([True, False]), 2),
]


@pytest.mark.parametrize("a, b", _WHERE_OPERANDS, ids=[f"{type(a).__name__}-{type(b).__name__}-{i}"
                                                      for i, (a, b) in enumerate(_WHERE_OPERANDS)])
def test_where_promotes_its_operands_as_pytorch_does(a, b):
    cond = [True, False]
    as_torch = (lambda x: torch.from_numpy(x) if isinstance(x, np.ndarray) else x)
    as_ours = (lambda x: minigrad.tensor(x) if isinstance(x, np.ndarray) else x)
    theirs = torch.where(torch.tensor(cond), as_torch(a), as_torch(b))
    ours = minigrad.where(minigrad.tensor(cond), as_ours(a), as_ours(b))
    assert str(ours.dtype).replace("minigrad.", "torch.") == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
