"""Loss modules against PyTorch's, with identical inputs: values and every gradient."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.ops import losses

REDUCTIONS = st.sampled_from(["none", "mean", "sum"])
DTYPES = st.sampled_from([np.float64, np.float32])


def _tol(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=1e-5)


def _run(module, tmodule, arrays, grad_positions, seed):
    """Call both modules on the same arrays; return outputs and gradients of ``grad_positions``."""
    results = []
    for lib, mod in ((minigrad, module), (torch, tmodule)):
        args = []
        for k, a in enumerate(arrays):
            t = lib.tensor(a)
            if k in grad_positions:
                t.requires_grad_(True)
            args.append(t)
        out = mod(*args)
        cot = np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(arrays[0].dtype)
        out.backward(lib.tensor(cot))
        results.append((out.detach().numpy(), [args[k].grad.numpy() for k in grad_positions]))
    return results


def _assert_same(results, dtype):
    (out, grads), (t_out, t_grads) = results
    assert out.shape == t_out.shape and out.dtype == t_out.dtype
    np.testing.assert_allclose(out, t_out, **_tol(dtype))
    for g, tg in zip(grads, t_grads):
        np.testing.assert_allclose(g, tg, **_tol(dtype))


@given(
    st.sampled_from(["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss"]), REDUCTIONS, DTYPES,
    st.sampled_from([(), (4,), (2, 3), (2, 1, 3)]), st.sampled_from([0.5, 1.0, 2.0]), st.integers(0, 2**31 - 1),
)
def test_regression_losses_match_torch(name, reduction, dtype, shape, param, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype) * 2
    y = rng.standard_normal(shape).astype(dtype) * 2
    kw = {"reduction": reduction}
    if name == "SmoothL1Loss":
        kw["beta"] = param
    if name == "HuberLoss":
        kw["delta"] = param
    results = _run(getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw), [x, y], (0, 1), seed)
    _assert_same(results, dtype)


def test_smooth_l1_with_beta_zero_is_l1():
    x, y = np.array([1.0, -2.0, 0.5]), np.array([0.0, 0.0, 1.0])
    a = F.smooth_l1_loss(minigrad.tensor(x), minigrad.tensor(y), beta=0.0)
    np.testing.assert_allclose(a.numpy(), torch.nn.functional.smooth_l1_loss(torch.tensor(x), torch.tensor(y), beta=0.0).numpy())


def test_l1_gradient_is_zero_where_input_equals_target():
    x = minigrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    F.l1_loss(x, minigrad.tensor(np.array([1.0, 0.0])), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])


def test_shape_mismatch_in_mse_and_l1_warns_about_broadcasting_like_torch():
    x, y = np.random.default_rng(0).standard_normal((3, 1)), np.random.default_rng(1).standard_normal(3)
    for fn, tfn in ((F.mse_loss, torch.nn.functional.mse_loss), (F.l1_loss, torch.nn.functional.l1_loss)):
        with pytest.warns(UserWarning, match=r"target size \(torch.Size\(\[3\]\)\) that is different to the input size \(torch.Size\(\[3, 1\]\)\)"):
            out = fn(minigrad.tensor(x), minigrad.tensor(y))
        with pytest.warns(UserWarning, match="broadcasting"):
            ref = tfn(torch.tensor(x), torch.tensor(y))
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="cannot be broadcast"):
        F.mse_loss(minigrad.zeros(3, 2), minigrad.zeros(4, 2))


def test_invalid_reduction_is_a_value_error():
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        nn.MSELoss(reduction="foo")


@st.composite
def classification(draw):
    c = draw(st.integers(1, 5))
    layout = draw(st.sampled_from(["C", "NC", "NC", "NCd", "NCdd"]))
    n = draw(st.integers(1, 4))
    shape = {"C": (c,), "NC": (n, c), "NCd": (n, c, 3), "NCdd": (n, c, 2, 2)}[layout]
    tshape = () if layout == "C" else (n,) + shape[2:]
    return c, shape, tshape


@given(
    classification(), REDUCTIONS, DTYPES, st.booleans(), st.sampled_from([None, -100, 0, 1]),
    st.sampled_from([0.0, 0.1, 1.0]), st.sampled_from([np.int64, np.int32]), st.integers(0, 2**31 - 1),
)
def test_cross_entropy_with_class_indices_matches_torch(case, reduction, dtype, weighted, ignore, smoothing, tdtype, seed):
    c, shape, tshape = case
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    t = rng.integers(0, c, size=tshape)
    if ignore not in (None, -100) and ignore < c and t.size > 1:
        t.reshape(-1)[0] = ignore  # some positions ignored...
        t.reshape(-1)[-1] = (ignore + 1) % c if c > 1 else t.reshape(-1)[-1]  # ...not necessarily all
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    if ignore is not None:
        kw["ignore_index"] = ignore
    w = rng.uniform(0.2, 2.0, size=c).astype(dtype) if weighted else None
    ours = nn.CrossEntropyLoss(weight=None if w is None else minigrad.tensor(w), **kw)
    theirs = torch.nn.CrossEntropyLoss(weight=None if w is None else torch.tensor(w), **kw)
    results = []
    for lib, mod, target in ((minigrad, ours, t.astype(tdtype)), (torch, theirs, t.astype(np.int64))):
        xt = lib.tensor(x, requires_grad=True)
        out = mod(xt, lib.tensor(target))
        cot = np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(dtype)
        out.backward(lib.tensor(cot))
        results.append((out.detach().numpy(), [xt.grad.numpy()]))
    _assert_same(results, dtype)


@given(classification(), REDUCTIONS, DTYPES, st.booleans(), st.sampled_from([0.0, 0.2]), st.integers(0, 2**31 - 1))
def test_cross_entropy_with_probability_targets_matches_torch(case, reduction, dtype, weighted, smoothing, seed):
    c, shape, _ = case
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    y = rng.dirichlet(np.ones(c), size=int(np.prod(shape)) // c).astype(dtype)
    y = np.moveaxis(y.reshape((shape[0],) + shape[2:] + (c,)) if len(shape) > 1 else y.reshape(shape), -1, 1 if len(shape) > 1 else 0)
    w = rng.uniform(0.2, 2.0, size=c).astype(dtype) if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    ours = nn.CrossEntropyLoss(weight=None if w is None else minigrad.tensor(w), **kw)
    theirs = torch.nn.CrossEntropyLoss(weight=None if w is None else torch.tensor(w), **kw)
    _assert_same(_run(ours, theirs, [x, np.ascontiguousarray(y)], (0, 1), seed), dtype)


@given(classification(), REDUCTIONS, st.booleans(), st.sampled_from([-100, 0]), st.integers(0, 2**31 - 1))
def test_nll_loss_matches_torch(case, reduction, weighted, ignore, seed):
    c, shape, tshape = case
    rng = np.random.default_rng(seed)
    x = np.log(rng.dirichlet(np.ones(c), size=max(1, int(np.prod(shape)) // c))).reshape(-1)[: int(np.prod(shape))].reshape(shape)
    t = rng.integers(0, c, size=tshape)
    if ignore == 0 and t.size and (t == 0).all():
        ignore = -100  # keep at least one position counted
    w = rng.uniform(0.2, 2.0, size=c) if weighted else None
    kw = {"reduction": reduction, "ignore_index": ignore}
    ours = nn.NLLLoss(weight=None if w is None else minigrad.tensor(w), **kw)
    theirs = torch.nn.NLLLoss(weight=None if w is None else torch.tensor(w), **kw)
    results = []
    for lib, mod in ((minigrad, ours), (torch, theirs)):
        xt = lib.tensor(x, requires_grad=True)
        out = mod(xt, lib.tensor(t))
        out.backward(lib.tensor(np.random.default_rng(seed).standard_normal(tuple(out.shape))))
        results.append((out.detach().numpy(), [xt.grad.numpy()]))
    _assert_same(results, np.float64)


def test_cross_entropy_mean_is_the_weighted_mean_over_counted_targets():
    x = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [0.0, 1.0, 3.0]])
    t = np.array([0, 2, -100])
    w = np.array([1.0, 2.0, 3.0])
    out = F.cross_entropy(minigrad.tensor(x), minigrad.tensor(t), weight=minigrad.tensor(w)).item()
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    expected = -(1.0 * logp[0, 0] + 3.0 * logp[1, 2]) / (1.0 + 3.0)
    assert out == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_with_every_target_ignored_is_nan_for_mean_and_zero_for_sum():
    x, t = minigrad.randn(2, 3, dtype=np.float64), minigrad.tensor([-100, -100])
    assert np.isnan(F.cross_entropy(x, t).item())
    assert F.cross_entropy(x, t, reduction="sum").item() == 0.0
    assert np.isnan(torch.nn.functional.cross_entropy(torch.tensor(x.numpy()), torch.tensor([-100, -100])).item())


@pytest.mark.parametrize("big", [1e4, -1e4, 1e30])
# the defaults run CrossEntropyMean; any option the general CrossEntropy
@pytest.mark.parametrize("ce_options", [{}, {"reduction": "sum"}], ids=["common", "general"])
def test_losses_on_huge_logits_are_finite_with_finite_gradients(big, ce_options):
    x = minigrad.tensor(np.array([[big, 0.0, -big], [0.0, big, 1.0]]), requires_grad=True)
    loss = F.cross_entropy(x, minigrad.tensor([2, 1]), **ce_options)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor([2, 1]), **ce_options)
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-300)

    z = minigrad.tensor(np.array([big, -big, 0.0]), requires_grad=True)
    y = np.array([0.0, 1.0, 0.5])
    bce = F.binary_cross_entropy_with_logits(z, minigrad.tensor(y), pos_weight=minigrad.tensor(np.array([2.0, 2.0, 2.0])))
    bce.backward()
    assert np.isfinite(bce.item()) and np.isfinite(z.grad.numpy()).all()
    tz = torch.tensor(z.detach().numpy(), requires_grad=True)
    tb = torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.tensor(y), pos_weight=torch.tensor([2.0, 2.0, 2.0]))
    tb.backward()
    np.testing.assert_allclose(bce.item(), tb.item(), rtol=1e-12)
    np.testing.assert_allclose(z.grad.numpy(), tz.grad.numpy(), rtol=1e-12)


@given(REDUCTIONS, DTYPES, st.booleans(), st.booleans(), st.integers(0, 2**31 - 1))
def test_bce_with_logits_matches_torch(reduction, dtype, weighted, pos_weighted, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((3, 4)) * 5).astype(dtype)
    y = rng.uniform(0, 1, (3, 4)).astype(dtype)
    w = rng.uniform(0.1, 2, (4,)).astype(dtype) if weighted else None
    pw = rng.uniform(0.1, 3, (4,)).astype(dtype) if pos_weighted else None
    def mk(lib, cls):
        return cls(weight=None if w is None else lib.tensor(w), pos_weight=None if pw is None else lib.tensor(pw),
                   reduction=reduction)
    _assert_same(_run(mk(minigrad, nn.BCEWithLogitsLoss), mk(torch, torch.nn.BCEWithLogitsLoss), [x, y], (0, 1), seed), dtype)


@given(REDUCTIONS, DTYPES, st.booleans(), st.booleans(), st.integers(0, 2**31 - 1))
def test_bce_matches_torch_including_clamped_logs_at_zero_and_one(reduction, dtype, weighted, edges, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.01, 0.99, (2, 5)).astype(dtype)
    if edges:
        x[0, :2] = [0.0, 1.0]  # log terms clamp at -100; the input gradient divides by max(x(1-x), 1e-12)
    y = rng.uniform(0, 1, (2, 5)).astype(dtype)
    w = rng.uniform(0.1, 2, (5,)).astype(dtype) if weighted else None
    ours = nn.BCELoss(weight=None if w is None else minigrad.tensor(w), reduction=reduction)
    theirs = torch.nn.BCELoss(weight=None if w is None else torch.tensor(w), reduction=reduction)
    # at x = 0 or 1 torch's float32 target gradient is inf (unclamped log): compare the input gradient only
    (out, grads), (t_out, t_grads) = _run(ours, theirs, [x, y], (0,) if edges else (0, 1), seed)
    tol = dict(rtol=1e-8, atol=1e-12) if dtype == np.float64 else _tol(dtype)  # gradients up to ~1e11 at the edges
    np.testing.assert_allclose(out, t_out, **tol)
    for g, tg in zip(grads, t_grads):
        np.testing.assert_allclose(g, tg, **tol)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: F.cross_entropy(minigrad.randn(3, 4), minigrad.tensor([0, 1, 4])), IndexError, "Target 4 is out of bounds."),
        (lambda: F.cross_entropy(minigrad.randn(5, 4), minigrad.tensor([0, 1, 3])), ValueError,
         r"Expected input batch_size \(5\) to match target batch_size \(3\)\."),
        (lambda: F.cross_entropy(minigrad.randn(3, 4), minigrad.tensor([0.0, 1.0, 3.0])), RuntimeError,
         "expected target dtype to be Long or Byte, but got Float"),
        (lambda: F.cross_entropy(minigrad.randn(3, 4, 2), minigrad.tensor([[0, 1], [1, 1], [0, 0]]).reshape(3, 2)[:, :1]),
         RuntimeError, r"Expected target size \[3, 2\], got \[3, 1\]"),
        (lambda: F.nll_loss(minigrad.randn(3, 4), minigrad.tensor([0, 1, 4])), IndexError, "Target 4 is out of bounds."),
        (lambda: F.binary_cross_entropy(minigrad.tensor([1.5]), minigrad.tensor([1.0])), RuntimeError,
         "all elements of input should be between 0 and 1"),
        (lambda: F.binary_cross_entropy_with_logits(minigrad.randn(3), minigrad.rand(4)), ValueError,
         r"Target size \(torch.Size\(\[4\]\)\) must be the same as input size \(torch.Size\(\[3\]\)\)"),
    ],
)
def test_loss_errors_match_torch(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_loss_modules_hold_weight_as_a_buffer():
    loss = nn.CrossEntropyLoss(weight=minigrad.tensor([1.0, 2.0]))
    assert [n for n, _ in loss.named_buffers()] == ["weight"]
    assert list(loss.parameters()) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss(minigrad.randn(3, 2), minigrad.tensor([0, 1, 1]))


# -- divergence, ranking, embedding and likelihood losses ----------------------------------
NEW_LOSS_MODULES = ["KLDivLoss", "MarginRankingLoss", "CosineEmbeddingLoss", "TripletMarginLoss", "PoissonNLLLoss",
                    "GaussianNLLLoss"]


@pytest.mark.parametrize("name", NEW_LOSS_MODULES)
def test_likelihood_and_margin_loss_modules_print_as_torch_and_keep_their_options(name):
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())
    assert getattr(nn, name)(reduction="sum").reduction == "sum"


def test_loss_modules_compute_as_torch():
    rng = np.random.default_rng(0)
    x1, x2, x3 = (rng.normal(size=(4, 3)) for _ in range(3))
    y = np.array([1, -1, 1, -1])
    p = rng.random((4, 3))
    cases = [
        ("KLDivLoss", {"reduction": "batchmean"}, (np.log(p / p.sum(1, keepdims=True)), p)),
        ("KLDivLoss", {"reduction": "sum", "log_target": True}, (x1, x2)),
        ("MarginRankingLoss", {"margin": 0.3}, (x1[:, 0], x2[:, 0], y.astype(float))),
        ("CosineEmbeddingLoss", {"margin": 0.2, "reduction": "none"}, (x1, x2, y)),
        ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, (x1, x2, x3)),
        ("PoissonNLLLoss", {"log_input": False, "full": True}, (p + 0.1, 3 * p)),
        ("GaussianNLLLoss", {"full": True, "eps": 1e-3}, (x1, x2, p[:, :1])),
    ]
    for name, kwargs, args in cases:
        ours = getattr(nn, name)(**kwargs)(*[minigrad.tensor(a) for a in args])
        theirs = getattr(torch.nn, name)(**kwargs)(*[torch.tensor(a) for a in args])
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, err_msg=name)


def test_gaussian_nll_clamps_the_variance_at_eps_without_masking_its_gradient_like_torch():
    var = np.array([1e-9, 0.5, 0.0])
    x, t = np.array([0.1, 0.2, -0.3]), np.array([0.0, 0.0, 0.0])
    v1, v2 = minigrad.tensor(var, requires_grad=True), torch.tensor(var, requires_grad=True)
    ours = F.gaussian_nll_loss(minigrad.tensor(x), minigrad.tensor(t), v1, eps=1e-3)
    theirs = torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(t), v2, eps=1e-3)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(v1.grad.numpy(), v2.grad.numpy(), rtol=1e-9)
    assert v1.grad.numpy()[0] != 0


def test_kl_div_mean_warns_as_torch_and_batchmean_of_a_scalar_is_the_sum():
    x, y = minigrad.tensor([[-1.0, -0.5]]), minigrad.tensor([[0.3, 0.7]])
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, y, reduction="batchmean")
    s = F.kl_div(minigrad.tensor(-1.0), minigrad.tensor(0.5), reduction="batchmean")
    r = torch.nn.functional.kl_div(torch.tensor(-1.0), torch.tensor(0.5), reduction="batchmean")
    np.testing.assert_allclose(s.numpy(), r.numpy(), rtol=1e-6)


def test_kl_div_of_a_zero_target_probability_is_zero_not_nan():
    loss = F.kl_div(minigrad.tensor([-1.0, -2.0]), minigrad.tensor([0.0, 1.0]), reduction="none")
    assert loss.tolist() == [0.0, 2.0]


def test_triplet_margin_loss_module_refuses_a_non_positive_margin_as_torch():
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater than 0, got 0 instead"):
        nn.TripletMarginLoss(margin=0)


@pytest.mark.parametrize("target, options, common", [
    ([2, 0], {}, True),
    ([2, 0], {"ignore_index": 5}, True),  # outside [0, C): no target can be ignored
    ([2, -100], {}, False),  # an ignored row
    ([2, 0], {"ignore_index": 0}, False),
    ([2, 0], {"reduction": "sum"}, False),
    ([2, 0], {"label_smoothing": 0.1}, False),
    ([2, 0], {"weight": [1.0, 2.0, 3.0]}, False),
])
def test_cross_entropy_takes_the_common_case_op_exactly_when_no_option_changes_the_math(target, options, common):
    def run(lib, cross_entropy):
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        kw = {k: lib.tensor(np.array(v)) if k == "weight" else v for k, v in options.items()}
        loss = cross_entropy(x, lib.tensor(target), **kw)
        loss.backward()
        return loss, x.grad.numpy()

    (loss, grad), (t_loss, t_grad) = run(minigrad, F.cross_entropy), run(torch, torch.nn.functional.cross_entropy)
    assert (loss.grad_fn.fn is losses.CrossEntropyMean) == common
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-15)


def test_the_common_case_cross_entropy_sees_its_targets_changed_in_place_before_backward():
    x = minigrad.tensor(np.zeros((2, 3)), requires_grad=True)
    t = minigrad.tensor([2, 0])
    loss = F.cross_entropy(x, t)
    t[0] = 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
