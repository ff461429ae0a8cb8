"""NumPy functions called on tensors run minigrad's ops (``minigrad.ops._numpy_dispatch``).

This is what lets each backward formula, written once in NumPy, record its own
graph when it is handed tensors.
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad.testing import gradcheck
from minigrad.ops._numpy_dispatch import HANDLED


def _leaf(a):
    return minigrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def test_np_exp_of_a_tensor_is_a_tensor_with_the_right_gradient():
    x = _leaf([0.5, -1.0, 2.0])
    y = np.exp(x)
    assert isinstance(y, minigrad.Tensor) and y.grad_fn is not None
    (g,) = minigrad.autograd.grad(y, x, grad_outputs=minigrad.tensor([1.0, 2.0, 3.0], dtype=minigrad.float64))
    np.testing.assert_allclose(g.detach().numpy(), np.exp(x.detach().numpy()) * [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "f",
    [
        lambda x, y: np.sum(x * y, axis=1, keepdims=True),
        lambda x, y: np.mean(np.tanh(x) - y, axis=0),
        lambda x, y: np.where(np.greater(x, 0), x, y) ** 2,
        lambda x, y: np.matmul(np.swapaxes(x, 0, 1), y),
        lambda x, y: np.broadcast_to(np.expand_dims(np.max(x, axis=1), 1), (2, 3)) / np.sqrt(np.abs(y) + 1),
        lambda x, y: np.concatenate([np.reshape(x, (3, 2)), np.transpose(y)], axis=1),
        lambda x, y: np.stack(np.split(x, [1], axis=1)[1:] + [y[:, 1:]], axis=0),
        lambda x, y: np.take(np.log(np.exp(x)), [2, 0, 2], axis=1) - np.clip(np.moveaxis(y, 1, 0)[:3].T, -0.5, 0.5),
        lambda x, y: np.maximum(x, y) + np.minimum(x, 0.1) + np.negative(np.power(np.abs(y) + 1, 1.5)),
        lambda x, y: np.cumsum(x, axis=1) * np.cumprod(y, axis=0) + np.reshape(np.cumsum(y), (2, 3)),
        lambda x, y: np.einsum("ij,kj->ik", x, y) + np.einsum("ij,ij,ij->i", x, y, np.ones((2, 3)))[:, None],
    ],
)
def test_numpy_formulas_on_tensors_give_numpy_values_and_gradients(f):
    rng = np.random.default_rng(0)
    xa, ya = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    x, y = _leaf(xa), _leaf(ya)
    out = f(x, y)
    assert isinstance(out, minigrad.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.detach().numpy(), f(xa, ya), rtol=1e-12)
    assert gradcheck(f, [x, y])


def test_comparisons_and_masks_are_constant_arrays():
    x = _leaf([-1.0, 0.0, 2.0])
    for mask in (np.greater(x, 0), np.sign(x), np.isfinite(x), np.equal(x, x)):
        assert type(mask) is np.ndarray
    assert np.shape(x) == (3,)


def test_out_and_other_numpy_only_arguments_are_refused():
    x = _leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="out="):
        np.exp(x, out=np.empty(2))
    with pytest.raises(TypeError, match="dtype="):
        np.sum(x, dtype=np.float32)


def test_a_numpy_function_without_an_entry_raises_rather_than_dropping_the_gradient():
    with pytest.raises(TypeError, match="diff"):
        np.diff(_leaf([1.0, 2.0]))
    with pytest.raises(TypeError):
        np.add.reduce(_leaf([1.0, 2.0]))


def test_every_entry_is_named_after_its_numpy_function():
    for func, impl in HANDLED.items():
        assert impl.__name__.startswith(getattr(func, "__name__", "")), (func, impl)
