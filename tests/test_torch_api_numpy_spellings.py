"""NumPy's ``axis=`` and ``keepdims=`` work exactly where PyTorch's argument parser accepts them."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
import minigrad.nn.functional as F

X = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)

CALLS = [
    "lib.sum(x, axis=0, keepdims=True)",
    "x.sum(axis=1)",
    "x.sum(0, keepdims=True)",
    "x.mean(axis=1, keepdims=True)",
    "x.max(axis=0, keepdims=True).values",
    "lib.max(x, axis=1).indices",
    "x.min(axis=0).values",
    "lib.amax(x, axis=0, keepdims=True)",
    "x.amin(axis=(0, 1))",
    "x.std(axis=0, keepdims=True)",
    "lib.var(x, axis=1, correction=0)",
    "lib.logsumexp(x, axis=0, keepdims=True)",
    "x.argmax(axis=0, keepdims=True)",
    "lib.argmin(x, axis=1)",
    "lib.softmax(x, axis=0)",
    "x.log_softmax(axis=1)",
    "x.cumsum(axis=0)",
    "lib.cat([x, x], axis=1)",
    "lib.stack([x, x], axis=2)",
    "x.unsqueeze(axis=0)",
    "x[None].squeeze(axis=0)",
    "x.sort(axis=0).values",
    "x.topk(2, axis=0).indices",
    "(x > 0).all(axis=0, keepdims=True)",
    "lib.any(x > 0, axis=1)",
    "x.index_select(axis=1, index=lib.tensor([0, 2]))",
    "x.chunk(2, axis=1)[1]",
    "x.narrow(axis=1, start=1, length=2)",
    "x.size(axis=1)",
    "lib.linalg.norm(x, axis=1, keepdims=True)",
    "lib.linalg.vector_norm(x, axis=0)",
    "F.cosine_similarity(x, x + 1, axis=0)",
    "F.pairwise_distance(x, x + 1, keepdims=True)",
]

REFUSED = [
    "x.sum(0, axis=1)",
    "x.sum(dim=0, axis=1)",
    "lib.sum(x, 0, True, keepdims=True)",
    "x.mean(axis=0, keepdims=True, keepdim=True)",
    "x.softmax(0, axis=0)",
    "F.softmax(x, axis=0)",
    "F.log_softmax(x, axis=0)",
    "F.normalize(x, axis=0)",
    "x.norm(axis=0)",
    "x.split(2, axis=0)",
]


def _run(expr, lib):
    x = lib.tensor(X)
    return eval(expr, {"lib": lib, "x": x, "F": F if lib is minigrad else TF})


@pytest.mark.parametrize("expr", CALLS)
def test_numpy_spellings_give_what_pytorch_gives(expr):
    ours, theirs = _run(expr, minigrad), _run(expr, torch)
    if isinstance(theirs, int):
        assert ours == theirs
    else:
        np.testing.assert_allclose(np.asarray(ours.numpy(), np.float64), theirs.numpy().astype(np.float64), rtol=1e-6)
        assert tuple(ours.shape) == tuple(theirs.shape)


@pytest.mark.parametrize("expr", REFUSED)
def test_where_pytorch_refuses_a_numpy_spelling_minigrad_does_too(expr):
    with pytest.raises(TypeError) as theirs:
        _run(expr, torch)
    with pytest.raises(TypeError) as ours:
        _run(expr, minigrad)
    alias = "keepdims" if "keepdims" in str(theirs.value) else "axis"
    assert f"unexpected keyword argument '{alias}'" in str(ours.value)


def _takes_dim(fn) -> bool:
    try:
        return bool({"dim", "keepdim"} & set(inspect.signature(fn).parameters))
    except (TypeError, ValueError):
        return False


def _namespaces():
    yield "minigrad", minigrad, torch
    yield "Tensor", minigrad.Tensor, torch.Tensor
    yield "F", F, TF
    yield "linalg", minigrad.linalg, torch.linalg


def _public_functions_with_dim():
    for label, ours, theirs in _namespaces():
        for name in sorted(dir(ours)):
            fn = getattr(ours, name)
            if not name.startswith("_") and callable(fn) and not isinstance(fn, type) and _takes_dim(fn):
                yield pytest.param(ours, theirs, name, id=f"{label}.{name}")


@pytest.mark.parametrize("ours, theirs, name", list(_public_functions_with_dim()))
def test_every_function_with_a_dim_takes_the_aliases_exactly_when_pytorchs_does(ours, theirs, name):
    # PyTorch's functions written in C++ go through its argument parser, which maps the aliases;
    # those written in Python (plain functions) do not.
    pytorch_accepts = not inspect.isfunction(getattr(theirs, name))
    assert getattr(getattr(ours, name), "numpy_spellings", False) == pytorch_accepts


def test_minigrads_own_calls_skip_the_spelling_layer():
    from minigrad.ops import reduction

    assert minigrad.sum.__wrapped__ is reduction.sum and not hasattr(reduction.sum, "numpy_spellings")
