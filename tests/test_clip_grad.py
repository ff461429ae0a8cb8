"""Gradient clipping against PyTorch (dense) and against the dense equivalent (row-sparse)."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.nn.parameter import Parameter
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_
from minigrad.sparse import SparseTensor

norm_types = st.sampled_from([2.0, 1.0, 3.0, 0.5, float("inf")])
V, D = 7, 3


def _dense_pair(seed, scale):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=s) * scale for s in [(3, 4), (5,), (2, 2, 2)]]
    mps, tps = [], []
    for g in grads:
        mp = Parameter(np.zeros(g.shape))
        mp.grad = minigrad.tensor(g.copy())
        tp = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64))
        tp.grad = torch.from_numpy(g.copy())
        mps.append(mp)
        tps.append(tp)
    return mps, tps


@given(seed=st.integers(0, 2**16), scale=st.sampled_from([1e-3, 1.0, 100.0]), max_norm=st.floats(0.01, 10.0),
       norm_type=norm_types)
def test_clip_grad_norm_matches_torch(seed, scale, max_norm, norm_type):
    mps, tps = _dense_pair(seed, scale)
    total = clip_grad_norm_(mps, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type, foreach=False)
    assert isinstance(total, minigrad.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.detach().numpy(), expected.numpy(), rtol=1e-12)
    for mp, tp in zip(mps, tps):
        np.testing.assert_allclose(mp.grad.numpy(), tp.grad.numpy(), rtol=1e-12, atol=1e-300)


@given(seed=st.integers(0, 2**16), clip=st.floats(0.01, 2.0))
def test_clip_grad_value_matches_torch(seed, clip):
    mps, tps = _dense_pair(seed, 1.0)
    assert clip_grad_value_(mps, clip) is None
    torch.nn.utils.clip_grad_value_(tps, clip, foreach=False)
    for mp, tp in zip(mps, tps):
        np.testing.assert_array_equal(mp.grad.numpy(), tp.grad.numpy())


def _sparse_and_dense(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 15))
    idx = rng.integers(0, V, size=n)  # repeats are the point: rows must be summed first
    val = rng.normal(size=(n, D))
    sp = Parameter(np.zeros((V, D)))
    sp.grad = SparseTensor(idx, val, (V, D))
    dense = Parameter(np.zeros((V, D)))
    dense.grad = minigrad.tensor(sp.grad.dense_array())
    other = rng.normal(size=(4,))
    a, b = Parameter(np.zeros(4)), Parameter(np.zeros(4))
    a.grad, b.grad = minigrad.tensor(other.copy()), minigrad.tensor(other.copy())
    return [sp, a], [dense, b]


@given(seed=st.integers(0, 2**16), max_norm=st.floats(0.01, 5.0), norm_type=norm_types)
def test_clip_grad_norm_of_sparse_grads_equals_the_dense_equivalent(seed, max_norm, norm_type):
    sparse_params, dense_params = _sparse_and_dense(seed)
    t_sparse = clip_grad_norm_(sparse_params, max_norm, norm_type)
    t_dense = clip_grad_norm_(dense_params, max_norm, norm_type)
    np.testing.assert_allclose(t_sparse.detach().numpy(), t_dense.detach().numpy(), rtol=1e-12)
    assert isinstance(sparse_params[0].grad, SparseTensor)
    np.testing.assert_allclose(sparse_params[0].grad.dense_array(), dense_params[0].grad.numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(sparse_params[1].grad.numpy(), dense_params[1].grad.numpy(), rtol=1e-12)


@given(seed=st.integers(0, 2**16), clip=st.floats(0.01, 2.0))
def test_clip_grad_value_of_sparse_grads_clamps_the_summed_rows(seed, clip):
    sparse_params, dense_params = _sparse_and_dense(seed)
    g = sparse_params[0].grad
    clip_grad_value_(sparse_params, clip)
    clip_grad_value_(dense_params, clip)
    assert sparse_params[0].grad is g and g.is_coalesced()
    np.testing.assert_array_equal(g.dense_array(), dense_params[0].grad.numpy())


def test_nonfinite_norm_raises_only_when_asked():
    p = Parameter(np.zeros(2))
    p.grad = minigrad.tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_([p], 1.0)
    assert np.isinf(total.detach().numpy())


def test_parameters_without_grads_are_skipped_and_no_grads_gives_zero():
    p, q = Parameter(np.zeros(2)), Parameter(np.zeros(2))
    p.grad = minigrad.tensor(np.array([3.0, 4.0]))
    total = clip_grad_norm_([p, q], 1.0)
    assert float(total.detach().numpy()) == 5.0 and q.grad is None
    np.testing.assert_allclose(p.grad.numpy(), np.array([3.0, 4.0]) * (1.0 / (5.0 + 1e-6)))
    assert float(clip_grad_norm_([q], 1.0).detach().numpy()) == 0.0
    # A single tensor is accepted as well as an iterable.
    assert float(clip_grad_norm_(p, 100.0).detach().numpy()) == pytest.approx(1.0, rel=1e-6)


def test_small_gradients_are_left_unchanged():
    p = Parameter(np.zeros(3))
    g = np.array([0.1, -0.2, 0.05])
    p.grad = minigrad.tensor(g.copy())
    clip_grad_norm_([p], 10.0)
    np.testing.assert_array_equal(p.grad.numpy(), g)
