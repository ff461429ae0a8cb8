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


def test_hvp_of_a_sum_of_cubes_is_six_x_times_v():
    x, v = minigrad.tensor(np.array([1.0, -2.0, 0.5])), minigrad.tensor(np.array([0.3, 1.0, -4.0]))
    value, hv = MF.hvp(lambda t: (t * t * t).sum(), x, v)
    assert value.item() == pytest.approx(1.0 - 8.0 + 0.125)
    np.testing.assert_allclose(hv.numpy(), 6 * x.numpy() * v.numpy(), rtol=1e-12)


def test_hvp_couples_two_inputs_through_the_mixed_second_derivatives():
    # f(x, y) = Σ x²y: H = [[diag 2y, diag 2x], [diag 2x, 0]], so Hv = (2y·vx + 2x·vy, 2x·vx).
    x, y = np.array([1.0, -0.5]), np.array([2.0, 3.0])
    vx, vy = np.array([0.7, -1.1]), np.array([0.2, 0.4])
    _, (hx, hy) = MF.hvp(lambda a, b: (a * a * b).sum(), (minigrad.tensor(x), minigrad.tensor(y)),
                         (minigrad.tensor(vx), minigrad.tensor(vy)))
    np.testing.assert_allclose(hx.numpy(), 2 * y * vx + 2 * x * vy, rtol=1e-12)
    np.testing.assert_allclose(hy.numpy(), 2 * x * vx, rtol=1e-12)


def test_hvp_of_a_linear_function_is_zero_and_a_quadratic_forms_is_the_symmetrised_matrix_times_v():
    a = np.array([[1.0, 2.0], [0.0, 3.0]])
    x, v = minigrad.tensor(np.array([0.5, -1.0])), minigrad.tensor(np.array([1.0, 2.0]))
    _, hv = MF.hvp(lambda t: (minigrad.tensor(a) @ t).sum(), x, v)
    np.testing.assert_array_equal(hv.numpy(), [0.0, 0.0])
    _, hv = MF.hvp(lambda t: t @ (minigrad.tensor(a) @ t), x, v)
    np.testing.assert_allclose(hv.numpy(), (a + a.T) @ v.numpy(), rtol=1e-12)
