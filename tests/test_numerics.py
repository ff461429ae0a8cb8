"""Numerical edge cases where minigrad must give PyTorch's numbers: huge values in float32,
gradients at NaN and ±inf, optimizer state that overflows."""
import warnings

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.nn.utils import clip_grad_norm_

NAN, INF = np.nan, np.inf


def _same(ours, theirs, rtol=1e-6):
    """Values equal to torch's, NaN where torch has NaN, and the sign of zeros too."""
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = ours.detach().numpy() if isinstance(ours, minigrad.Tensor) else np.asarray(ours)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True)
    np.testing.assert_array_equal(np.signbit(ours[ours == 0]), np.signbit(theirs[ours == 0]))


# -- std / var of huge float32 values -----------------------------------------------------
@pytest.mark.parametrize("scale", [1e19, 2e19, 1e20, 1e30, 1e37])
@pytest.mark.parametrize("fn", ["std", "var"])
@pytest.mark.parametrize("dim", [None, 1])
def test_float32_std_stays_finite_for_huge_values_and_var_overflows_only_where_torch_does(scale, fn, dim):
    x = (np.array([[1.0, -1.0, 0.5, 0.0], [2.0, 0.25, -3.0, 1.0]]) * scale).astype(np.float32)
    u = np.array([1.0, -0.5], dtype=np.float32) if dim is not None else np.float32(1.0)
    ours = minigrad.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y, ty = getattr(ours, fn)(dim=dim), getattr(theirs, fn)(dim=dim)
    y.backward(minigrad.tensor(u))
    ty.backward(torch.tensor(u))
    _same(y, ty, rtol=1e-5)
    if fn == "std":
        assert np.isfinite(y.detach().numpy()).all()
    _same(ours.grad, theirs.grad, rtol=1e-5)


# -- clip_grad_norm_ ------------------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 3.0, 4.0, 2.5, 0.5, INF])
@pytest.mark.parametrize("grads", [
    [[1e30]],                       # one element: its norm is |g| for every p, in torch too
    [[[1e30]], [[-3e30]]],          # two one-element gradients: the total is over two norms
    [1e30],                         # 0-d
    [[1e30, 1.0]],                  # |g|^p overflows float32: torch's norm is inf and it zeroes the gradient
    [[1e13, 1e13]],
    [[3.0, -4.0], [1e-30, 0.0]],
])
def test_clip_grad_norm_of_huge_gradients_matches_torch(norm_type, grads):
    ours, theirs = [], []
    for g in grads:
        g = np.asarray(g, dtype=np.float32)
        p = nn.Parameter(minigrad.zeros(g.shape))
        p.grad = minigrad.tensor(g)
        tp = torch.zeros(g.shape, requires_grad=True)
        tp.grad = torch.tensor(g)
        ours.append(p)
        theirs.append(tp)
    total = clip_grad_norm_(ours, 1.0, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type)
    _same(total, t_total, rtol=1e-5)
    for p, tp in zip(ours, theirs):
        _same(p.grad, tp.grad, rtol=1e-5)


# -- RMSprop(centered=True) ----------------------------------------------------------------
@pytest.mark.parametrize("grad", [[1e30, -1e25, 1.0], [1e20, -1e19, 1.0], [3e38, 1e-30, -2.0]])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("centered", [True, False])
def test_rmsprop_on_huge_gradients_matches_torch(grad, momentum, centered):
    g = np.array(grad, dtype=np.float32)
    w = nn.Parameter(minigrad.zeros(3))
    tw = torch.zeros(3, requires_grad=True)
    opt = optim.RMSprop([w], lr=0.01, momentum=momentum, centered=centered)
    topt = torch.optim.RMSprop([tw], lr=0.01, momentum=momentum, centered=centered)
    for _ in range(3):
        w.grad, tw.grad = minigrad.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    assert not np.isnan(w.detach().numpy()).any()
    _same(w, tw, rtol=1e-5)
    for key in ("square_avg", "grad_avg", "momentum_buffer"):
        if key in topt.state[tw]:
            _same(opt.state[w][key], topt.state[tw][key], rtol=1e-5)


# -- gradients at NaN, ±inf and signed zeros -----------------------------------------------
SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 2.5]


def _vectorised(f):
    """f on x, computed inside a longer tensor.

    PyTorch's elementwise loops run a scalar loop over short tensors and vector
    instructions over long ones, and at a NaN input the two give elu and hardtanh
    different gradients (1 from the scalar loop; NaN for elu and 0 for hardtanh from the
    vector one). minigrad gives the vector loop's, what a tensor of any real size gets.
    """
    def call(m, x):
        return f(m, m.cat([x, m.zeros(64, dtype=x.dtype)]))[:x.shape[0]]
    return call


UNARY = {"relu": lambda m, x: m.relu(x), "abs": lambda m, x: m.abs(x),
         "clamp": lambda m, x: m.clamp(x, -1.0, 2.0), "clamp_min": lambda m, x: m.clamp(x, min=0.0),
         "elu": _vectorised(lambda m, x: m.nn.functional.elu(x)),
         "hardtanh": _vectorised(lambda m, x: m.nn.functional.hardtanh(x)),
         "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x, 0.1),
         "softplus": lambda m, x: m.nn.functional.softplus(x), "silu": lambda m, x: m.nn.functional.silu(x),
         "mish": lambda m, x: m.nn.functional.mish(x), "gelu": lambda m, x: m.nn.functional.gelu(x),
         "logsigmoid": lambda m, x: m.nn.functional.logsigmoid(x),
         # Along a dimension of length 1 a cumulative product is the identity, even at ±inf.
         "cumprod_length_1": lambda m, x: m.cumprod(x.reshape(-1, 1), 1),
         "cumprod": lambda m, x: m.cumprod(x[3:], 0)}


@pytest.mark.parametrize("cotangent", [1.0, NAN, INF], ids=["one", "nan", "inf"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients_at_nan_inf_and_zero_follow_torch(name, cotangent):
    """Also with a NaN or infinite incoming gradient: a position relu or clamp cuts off gets
    an exact 0 (as after sqrt at 0, whose gradient is inf)."""
    x = np.array(SPECIAL)
    ours = minigrad.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y, ty = UNARY[name](minigrad, ours), UNARY[name](torch, theirs)
    y.backward(minigrad.full(y.shape, cotangent, dtype=minigrad.float64))
    ty.backward(torch.full_like(ty, cotangent))
    _same(y, ty)
    _same(ours.grad, theirs.grad)


@pytest.mark.parametrize("cotangent", [1.0, NAN, INF], ids=["one", "nan", "inf"])
@pytest.mark.parametrize("name", ["maximum", "minimum", "l1_loss", "div"])
def test_binary_gradients_at_nan_inf_and_ties_follow_torch(name, cotangent):
    """Also with a NaN or infinite incoming gradient: an input that loses max/min gets an exact
    zero (PyTorch masks, it does not multiply by 0)."""
    a = np.array([v for v in SPECIAL for _ in SPECIAL])
    b = np.array([w for _ in SPECIAL for w in SPECIAL])
    fns = {"maximum": (minigrad.maximum, torch.maximum), "minimum": (minigrad.minimum, torch.minimum),
           "l1_loss": (lambda x, y: F.l1_loss(x, y, reduction="none"),
                       lambda x, y: torch.nn.functional.l1_loss(x, y, reduction="none")),
           "div": (minigrad.div, torch.div)}
    fn, tfn = fns[name]
    oa, ob = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        y = fn(oa, ob)
        y.backward(minigrad.full(y.shape, cotangent, dtype=minigrad.float64))
    ty = tfn(ta, tb)
    ty.backward(torch.full_like(ty, cotangent))
    _same(y, ty)
    _same(oa.grad, ta.grad)
    _same(ob.grad, tb.grad)


def test_division_gradient_wrt_the_divisor_does_not_underflow_where_torch_does_not():
    """b̄ = −ȳ·(a/b)/b, not −ȳ·a/b²: with a = b = 1e-300, b² underflows to 0 and would give inf."""
    a = np.array([1e-300, -1e-300, 3e-200, 2.0])
    b = np.array([1e-300, 1e-300, 1e-200, 4.0])
    oa, ob = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (oa / ob).sum().backward()
    (ta / tb).sum().backward()
    _same(ob.grad, tb.grad)
    assert np.all(np.isfinite(ob.grad.numpy()))


@pytest.mark.parametrize("exponent", [2.0, 3.0, 0.5, -0.5, -1.0, -2.0, 1.5, 0.0])
def test_scalar_power_values_and_gradients_at_special_values_follow_torch(exponent):
    """PyTorch computes x ** -0.5 as 1/√x, whose values at -inf and -0 are not C pow's."""
    x = np.array(SPECIAL + [1e200, -1e200, 1e-200])
    ours, theirs = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with np.errstate(all="ignore"):
        y = ours ** exponent
        y.backward(minigrad.ones(y.shape, dtype=minigrad.float64))
    ty = theirs ** exponent
    ty.backward(torch.ones_like(ty))
    _same(y, ty)
    _same(ours.grad, theirs.grad)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_std_of_a_constant_slice_has_zero_gradient_as_in_torch(dim):
    """y = 0 makes ȳ·(x - mean)/y a 0/0; PyTorch defines that gradient as 0."""
    x = np.array([[0.7] * 3, [2.0, -1.0, 2.0]])  # the mean of three 0.7 is not 0.7 in floating point
    x[1] = x[0, 0] if dim == 0 else x[1]
    ours, theirs = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = ours.std() if dim is None else ours.std(dim)
    ty = theirs.std() if dim is None else theirs.std(dim)
    y.sum().backward()
    ty.sum().backward()
    _same(ours.grad, theirs.grad)


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e200), (np.float64, 1e160), (np.float32, 1e25)])
def test_layer_norm_of_values_whose_squares_overflow_is_the_layer_norm_of_the_rescaled_values(dtype, scale):
    """(x − μ)² overflows long before x does; the normalised values do not depend on the scale.
    (PyTorch returns NaN here: its variance overflows to inf − inf.)"""
    base = np.array([[1.0, 2.0, 3.0, -0.5], [4.0, 4.0, 4.0, 4.0]], dtype)
    x = minigrad.tensor(base * dtype(scale), requires_grad=True)
    y = F.layer_norm(x, (4,))
    expected = F.layer_norm(minigrad.tensor(base), (4,), eps=1e-30)  # ε is negligible at this scale
    np.testing.assert_allclose(y.detach().numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    y.backward(minigrad.tensor(np.arange(8, dtype=dtype).reshape(2, 4)))
    assert np.all(np.isfinite(x.grad.numpy()))


def test_embedding_bag_max_with_nan_rows_follows_torchs_scan_values_and_gradients():
    """PyTorch keeps a bag's first entry and replaces it by a strictly greater one: a NaN
    first entry is the maximum (and gets the gradient), a later NaN is passed over."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        w = rng.normal(size=(4, 3))
        w[rng.random(w.shape) < 0.3] = np.nan
        n = int(rng.integers(0, 7))
        idx = rng.integers(0, 4, n)
        offsets = np.sort(rng.integers(0, n + 1, int(rng.integers(1, 4))))
        offsets[0] = 0
        pad = int(rng.integers(0, 4)) if rng.random() < 0.4 else None
        ours, theirs = minigrad.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        y = F.embedding_bag(minigrad.tensor(idx), ours, minigrad.tensor(offsets), mode="max", padding_idx=pad)
        ty = torch.nn.functional.embedding_bag(torch.from_numpy(idx), theirs, torch.from_numpy(offsets),
                                               mode="max", padding_idx=pad)
        cot = rng.normal(size=tuple(ty.shape))
        y.backward(minigrad.tensor(cot))
        ty.backward(torch.from_numpy(cot))
        _same(y, ty)
        _same(ours.grad, theirs.grad)


DEGENERATE_VARIANCES = [  # (x, cotangent, options): no degrees of freedom left, NaN or inf inside
    (1.5, 2.0, {}), (np.nan, 1.0, {}), (np.inf, 1.0, {}), (1.5, np.nan, {}),
    ([1.0, 2.0], 1.0, {"correction": 2}), ([1.0, 1.0], 1.0, {"correction": 2}),
    ([1.0, 2.0, 3.0], 1.0, {"correction": 5}), ([[1.0], [2.0]], [1.0, -1.0], {"dim": 1}),
    ([[1.0, 3.0]], [1.0], {"dim": 1, "correction": 2}), ([[1.0, 3.0]], [1.0], {"dim": 1, "correction": 5}),
]


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("x, cotangent, options", DEGENERATE_VARIANCES)
def test_variance_gradients_without_degrees_of_freedom_follow_torch(name, x, cotangent, options):
    """Over every element with n ≤ correction PyTorch gives ȳ·(nan where x is the mean, else inf);
    over a dim, 2ȳ(x − mean)/(n − c) with the signed n − c."""
    ours, theirs = minigrad.tensor(np.array(x), requires_grad=True), torch.tensor(np.array(x), requires_grad=True)
    with np.errstate(all="ignore"):
        getattr(ours, name)(**options).backward(minigrad.tensor(np.array(cotangent, dtype=np.float64)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(theirs, name)(**options).backward(torch.tensor(np.array(cotangent, dtype=np.float64)))
    _same(ours.grad, theirs.grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_of_huge_logits_is_finite_and_matches_torch(dtype):
    # exp(1e4) overflows in every float type: only x - max(x) may be exponentiated.
    x = np.array([[1e4, 0.0, -1e4], [1000.0, 1001.0, 1002.0], [-1e30, -1e30, 5.0]], dtype=dtype)
    t = minigrad.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.log_softmax(t, dim=1)
        y.backward(minigrad.tensor(np.ones_like(x)))
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.log_softmax(tx, dim=1)
    ty.backward(torch.ones_like(ty))
    assert np.isfinite(y.detach().numpy()).all() and np.isfinite(t.grad.numpy()).all()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)
