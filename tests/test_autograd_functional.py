"""``minigrad.autograd.functional`` gives what ``torch.autograd.functional`` gives.

One smooth function of two inputs (products, exp, tanh, a matrix product and a
reduction, so the Hessian has off-diagonal and cross-input blocks) is run through
every helper on both libraries from the same float64 values; the results must agree.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import minigrad
import minigrad.autograd.functional as MF


def _f(lib):
    def f(x, w):
        return (lib.tanh(x @ w) * lib.exp(x.sum() * 0.1)).sum() + (x * x * x).sum()

    return f


def _g(lib):
    """A vector-valued function, for jacobian/vjp/jvp."""

    def g(x, w):
        return lib.tanh(x @ w) * x.sum()

    return g


@pytest.fixture
def values():
    rng = np.random.default_rng(0)
    return rng.standard_normal(3), rng.standard_normal((3, 2))


def _pair(values):
    mx = tuple(minigrad.tensor(v) for v in values)
    tx = tuple(torch.tensor(v) for v in values)
    return mx, tx


def _close(a, b):
    if isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
        return
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_hessian_matches_pytorch_block_for_block(values):
    mx, tx = _pair(values)
    _close(MF.hessian(_f(minigrad), mx), TF.hessian(_f(torch), tx))


def test_hvp_and_vhp_match_pytorch(values):
    mx, tx = _pair(values)
    rng = np.random.default_rng(1)
    v = tuple(rng.standard_normal(np.shape(a)) for a in values)
    mv, tv = tuple(minigrad.tensor(a) for a in v), tuple(torch.tensor(a) for a in v)
    _close(MF.hvp(_f(minigrad), mx, mv), TF.hvp(_f(torch), tx, tv))
    _close(MF.vhp(_f(minigrad), mx, mv), TF.vhp(_f(torch), tx, tv))


def test_jacobian_vjp_and_jvp_match_pytorch(values):
    mx, tx = _pair(values)
    _close(MF.jacobian(_g(minigrad), mx), TF.jacobian(_g(torch), tx))
    u = np.random.default_rng(2).standard_normal(2)
    _close(MF.vjp(_g(minigrad), mx, minigrad.tensor(u)), TF.vjp(_g(torch), tx, torch.tensor(u)))
    v = tuple(np.random.default_rng(3).standard_normal(np.shape(a)) for a in values)
    _close(
        MF.jvp(_g(minigrad), mx, tuple(minigrad.tensor(a) for a in v)),
        TF.jvp(_g(torch), tx, tuple(torch.tensor(a) for a in v)),
    )


def test_hessian_with_create_graph_is_differentiable_again(values):
    """A third derivative: d/dx of Σ H(x) for f(x) = Σ x³ is 6 per element (H = diag(6x))."""
    x = minigrad.tensor(values[0], requires_grad=True)
    h = MF.hessian(lambda t: (t * t * t).sum(), x, create_graph=True)
    (g,) = minigrad.autograd.grad(h.sum(), x)
    np.testing.assert_allclose(g.numpy(), np.full(3, 6.0))


def test_strict_raises_when_an_input_is_unused(values):
    mx, tx = _pair(values)
    with pytest.raises(RuntimeError, match="independent"):
        TF.vjp(lambda x, w: x.sum(), tx, strict=True)
    with pytest.raises(RuntimeError, match="independent"):
        MF.vjp(lambda x, w: x.sum(), mx, strict=True)
