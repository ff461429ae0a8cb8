"""tril, triu and masked_fill against PyTorch, and the -inf mask that must not make a NaN gradient."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.testing import gradcheck, strategies as mst


@settings(max_examples=20)
@given(x=mst.arrays(mst.shapes(2, 4, 1, 4)), diagonal=st.integers(-3, 3), lower=st.booleans(),
       seed=st.integers(0, 2**16))
def test_tril_and_triu_match_torch_with_gradients(x, diagonal, lower, seed):
    name = "tril" if lower else "triu"
    mx, tx = minigrad.tensor(x, requires_grad=True), torch.tensor(np.array(x, order="C"), requires_grad=True)
    my, ty = getattr(minigrad, name)(mx, diagonal), getattr(torch, name)(tx, diagonal)
    np.testing.assert_array_equal(my.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(getattr(mx, name)(diagonal).detach().numpy(), my.detach().numpy())
    w = np.random.default_rng(seed).standard_normal(x.shape)
    (my * minigrad.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(mx.grad.numpy(), tx.grad.numpy())


@settings(max_examples=20)
@given(x=mst.arrays(mst.shapes(1, 3, 1, 4)), data=st.data())
def test_masked_fill_matches_torch_with_gradients(x, data):
    mask_shape = data.draw(st.sampled_from([x.shape, x.shape[1:], (1,) * x.ndim]))
    mask = data.draw(st.lists(st.booleans(), min_size=int(np.prod(mask_shape)), max_size=int(np.prod(mask_shape))))
    mask = np.array(mask, dtype=bool).reshape(mask_shape)
    value = data.draw(st.sampled_from([0.0, -1.5, float("-inf")]))
    mx, tx = minigrad.tensor(x, requires_grad=True), torch.tensor(np.array(x, order="C"), requires_grad=True)
    my = mx.masked_fill(minigrad.tensor(mask), value)
    ty = tx.masked_fill(torch.tensor(mask), value)
    np.testing.assert_array_equal(my.detach().numpy(), ty.detach().numpy())
    assert my.dtype == np.float64
    w = np.random.default_rng(0).standard_normal(x.shape)
    (my.clamp(-1e9, 1e9) * minigrad.tensor(w)).sum().backward()
    (ty.clamp(-1e9, 1e9) * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(mx.grad.numpy(), tx.grad.numpy())


def test_minus_infinity_fill_before_softmax_leaves_no_nan_in_gradients(rng):
    x = minigrad.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    causal = minigrad.tensor(np.triu(np.ones((3, 3), dtype=bool), 1))
    y = x.masked_fill(causal, float("-inf")).softmax(-1)
    (y * minigrad.tensor(rng.standard_normal((3, 3)))).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert np.all(x.grad.numpy()[np.triu_indices(3, 1)] == 0)


def test_masked_fill_and_tril_pass_gradcheck(rng):
    x = minigrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    mask = minigrad.tensor(rng.random((3, 4)) < 0.5)
    assert gradcheck(lambda x: x.masked_fill(mask, 2.0).tril(1) * x, [x])


def test_errors_as_torch():
    x = minigrad.zeros(2, 3)
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        x.masked_fill(minigrad.zeros(2, 3), 1.0)
    with pytest.raises(RuntimeError, match="must match the existing size"):
        x.masked_fill(minigrad.ones(3, 3, dtype=minigrad.bool), 1.0)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        minigrad.tril(minigrad.zeros(3))
