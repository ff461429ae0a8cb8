"""Ignored targets in cross-entropy and NLL: they contribute nothing, not even a NaN.

A batch that is all padding must give PyTorch's loss (nan for 'mean', 0 for 'sum'),
zero gradients and no warning; a NaN or ±inf logit at an ignored position (masked
logits) must leave the loss and every other row's gradient as PyTorch computes them.
"""
import warnings

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn.functional as F

INF, NAN = np.inf, np.nan


def _both(fn_name, x, t, **kw):
    """Run ``fn_name`` in minigrad and torch on the same arrays; return (loss, x.grad) of each.

    Any warning (NumPy's 'invalid value' or 'divide by zero' included) fails the test."""
    out = []
    for lib, fn in ((minigrad, getattr(F, fn_name)), (torch, getattr(torch.nn.functional, fn_name))):
        kw_lib = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        xt = lib.tensor(x, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loss = fn(xt, lib.tensor(t), **kw_lib)
            cot = np.random.default_rng(0).standard_normal(tuple(loss.shape)).astype(x.dtype)
            loss.backward(lib.tensor(cot))
        out.append((loss.detach().numpy(), xt.grad.numpy()))
    return out


def _same_loss(ours, theirs):
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6, equal_nan=True)


CASES = [("cross_entropy", 0.0), ("cross_entropy", 0.1), ("cross_entropy", 1.0), ("nll_loss", None)]


@pytest.mark.parametrize("fn_name, smoothing", CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape, ignore", [((4, 3), -100), ((2, 3, 5), 1), ((3,), -100)])
def test_every_target_ignored_gives_zero_gradients_and_torchs_loss_without_warnings(
        fn_name, smoothing, reduction, weighted, shape, ignore):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    t = np.full(() if len(shape) == 1 else (shape[0],) + shape[2:], ignore, dtype=np.int64)
    kw = {"reduction": reduction, "ignore_index": ignore}
    if smoothing is not None:
        kw["label_smoothing"] = smoothing
    if weighted:
        kw["weight"] = rng.uniform(0.5, 2.0, size=3).astype(np.float32)
    (loss, grad), (t_loss, t_grad) = _both(fn_name, x, t, **kw)
    _same_loss(loss, t_loss)
    assert (grad == 0).all() and (t_grad == 0).all()


def _masked_logits(dtype):
    """Row 0 counted; rows 1-4 ignored, holding NaN, +inf and -inf, both infinities, masked -inf."""
    x = np.array([
        [0.5, -1.0, 2.0, 0.25],
        [NAN, NAN, NAN, NAN],
        [INF, 0.0, 1.0, 2.0],
        [INF, -INF, 1.0, NAN],
        [-INF, 3.0, -INF, 1.0],
    ], dtype=dtype)
    t = np.array([2, -100, -100, -100, -100])
    return x, t


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nonfinite_logits_at_ignored_positions_leave_the_cross_entropy_and_its_gradient_alone(
        smoothing, reduction, weighted, dtype):
    x, t = _masked_logits(dtype)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        kw["weight"] = np.array([0.5, 2.0, 1.5, 1.0], dtype=dtype)
    (loss, grad), (t_loss, t_grad) = _both("cross_entropy", x, t, **kw)
    _same_loss(loss, t_loss)
    assert np.isfinite(loss).all()
    np.testing.assert_allclose(grad[0], t_grad[0], rtol=1e-5, atol=1e-6)
    # The loss does not depend on an ignored row, so its gradient is exactly zero.  PyTorch
    # agrees where the row's softmax is defined and gives NaN where it is not (NaN, or +inf
    # beside another +inf/NaN): docs/differences.rst.
    assert (grad[1:] == 0).all()
    defined = np.isfinite(t_grad[1:]).all(axis=1)
    assert (t_grad[1:][defined] == 0).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nonfinite_log_probabilities_at_ignored_positions_leave_nll_loss_alone(reduction, weighted):
    x, t = _masked_logits(np.float64)
    kw = {"reduction": reduction}
    if weighted:
        kw["weight"] = np.array([0.5, 2.0, 1.5, 1.0])
    (loss, grad), (t_loss, t_grad) = _both("nll_loss", x, t, **kw)
    _same_loss(loss, t_loss)
    np.testing.assert_array_equal(grad, t_grad)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_masked_minus_inf_logits_of_counted_rows_match_torch(smoothing, weighted):
    """-inf at classes a counted row does not target: finite gradient; the smoothed loss is inf, as in torch."""
    x = np.array([[0.5, -INF, 1.0, -INF], [1.0, 2.0, -INF, 0.0]])
    kw = {"label_smoothing": smoothing}
    if weighted:
        kw["weight"] = np.array([0.5, 2.0, 1.5, 1.0])
    (loss, grad), (t_loss, t_grad) = _both("cross_entropy", x, np.array([0, 1]), **kw)
    _same_loss(loss, t_loss)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_masked_minus_inf_logits_with_probability_targets_match_torch(smoothing, weighted, reduction):
    """Probability targets have no ignore_index; a -inf logit where the target is 0 gives
    torch's loss (0·log 0 = nan, unsmoothed) and its finite gradient."""
    x = np.array([[0.5, -INF, 1.0, -INF], [1.0, 2.0, 0.0, 0.5]])
    y = np.array([[0.3, 0.0, 0.7, 0.0], [0.1, 0.2, 0.3, 0.4]])
    kw = {"label_smoothing": smoothing, "reduction": reduction}
    if weighted:
        kw["weight"] = np.array([0.5, 2.0, 1.5, 1.0])
    (loss, grad), (t_loss, t_grad) = _both("cross_entropy", x, y, **kw)
    _same_loss(loss, t_loss)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fn_name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_counted_targets_with_zero_total_weight_give_torchs_nan(fn_name, reduction):
    """Not ignored, but every counted target has class weight 0: 'mean' is 0/0 = nan in the
    loss and in the counted rows' gradients, as in PyTorch; 'sum' stays finite."""
    x = np.random.default_rng(2).standard_normal((3, 3))
    t = np.array([0, -100, 0])
    w = np.array([0.0, 1.0, 1.0])
    ours, theirs = [], []
    for lib, fn in ((minigrad, getattr(F, fn_name)), (torch, getattr(torch.nn.functional, fn_name))):
        xt = lib.tensor(x, requires_grad=True)
        with np.errstate(all="ignore"):
            loss = fn(xt, lib.tensor(t), weight=lib.tensor(w), reduction=reduction)
            loss.backward()
        (ours if lib is minigrad else theirs).append((loss.detach().numpy(), xt.grad.numpy()))
    (loss, grad), (t_loss, t_grad) = ours[0], theirs[0]
    _same_loss(loss, t_loss)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-12, equal_nan=True)
