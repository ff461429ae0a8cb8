"""The fused kernels (optimizer updates, EmbeddingBag sum/mean) against the NumPy reference and PyTorch.

The fused kernels are an optimisation only: with the compiled extension they
must give what the NumPy code gives (to rounding, float32 and float64), match
PyTorch's float32 optimizers step for step, and step aside (return False/None)
for arrays they cannot take, leaving the NumPy code to do the work.
"""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad import kernels
from minigrad.nn.parameter import Parameter

needs_ext = pytest.mark.skipif("cython" not in kernels.available_backends(),
                               reason="the compiled extension is not built")

adam_options = st.fixed_dictionaries({
    "lr": st.floats(1e-4, 0.1), "betas": st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.9999)),
    "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": st.sampled_from([0.0, 0.05]),
    "amsgrad": st.booleans(), "maximize": st.booleans(),
})
sgd_options = st.fixed_dictionaries({
    "lr": st.floats(1e-4, 0.1), "momentum": st.sampled_from([0.0, 0.9]),
    "dampening": st.sampled_from([0.0, 0.3]), "weight_decay": st.sampled_from([0.0, 0.05]),
    "maximize": st.booleans(),
})


def _trajectory(name, options, dtype, backend, steps=6, seed=0):
    rng = np.random.default_rng(seed)
    p = Parameter(rng.normal(size=(7, 5)).astype(dtype))
    opt = getattr(optim, name)([p], **options)
    grads = [rng.normal(size=(7, 5)).astype(dtype) for _ in range(steps)]
    with kernels.use_backend(backend):
        for g in grads:
            p.grad = minigrad.tensor(g)
            opt.step()
    return p.detach().numpy(), opt, grads


def _torch_trajectory(name, options, start, grads):
    p = torch.nn.Parameter(torch.from_numpy(start.copy()))
    opt = getattr(torch.optim, name)([p], foreach=False, **options)
    for g in grads:
        p.grad = torch.from_numpy(g.copy())
        opt.step()
    return p.detach().numpy()


@needs_ext
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@given(options=adam_options, seed=st.integers(0, 2**16))
def test_fused_adam_matches_torch_float32_and_the_numpy_reference(name, options, seed):
    fused, opt, grads = _trajectory(name, options, np.float32, "cython", seed=seed)
    reference, _, _ = _trajectory(name, options, np.float32, "numpy", seed=seed)
    start = np.random.default_rng(seed).normal(size=(7, 5)).astype(np.float32)
    expected = _torch_trajectory(name, options, start, grads)
    np.testing.assert_allclose(fused, expected, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(fused, reference, rtol=2e-6, atol=1e-7)
    assert fused.dtype == np.float32


@needs_ext
@given(options=sgd_options, nesterov=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_sgd_matches_torch_float32_and_the_numpy_reference(options, nesterov, seed):
    if nesterov:
        options = dict(options, momentum=0.9, dampening=0.0)
    options = dict(options, nesterov=nesterov)
    fused, opt, grads = _trajectory("SGD", options, np.float32, "cython", seed=seed)
    reference, _, _ = _trajectory("SGD", options, np.float32, "numpy", seed=seed)
    start = np.random.default_rng(seed).normal(size=(7, 5)).astype(np.float32)
    np.testing.assert_allclose(fused, _torch_trajectory("SGD", options, start, grads), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fused, reference, rtol=1e-6, atol=1e-7)


@needs_ext
def test_fused_updates_step_aside_for_arrays_they_cannot_take():
    p = np.zeros((4, 6), np.float32)[:, ::2]           # not contiguous
    g = np.ones((4, 3), np.float32)
    m, v = np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32)
    opts = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                decoupled_weight_decay=False, maximize=False, step=1.0)
    assert kernels.adam_update_(p, g, m, v, None, **opts) is False
    assert not m.any()                                 # nothing was touched
    mixed = np.zeros((4, 3), np.float64)
    assert kernels.adam_update_(mixed, g, m, v, None, **opts) is False
    with kernels.use_backend("numpy"):
        assert kernels.sgd_update_(np.zeros(3, np.float32), np.ones(3, np.float32), None, first=False,
                                   lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0,
                                   nesterov=False, maximize=False) is False


@needs_ext
def test_optimizers_fall_back_to_numpy_for_a_non_contiguous_parameter():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    p = Parameter(base)
    p.data = minigrad.from_numpy(base[:, ::2])  # a strided view: the kernel steps aside
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    p.grad = minigrad.tensor(np.ones((4, 3)))
    opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), np.arange(24, dtype=np.float64).reshape(4, 6)[:, ::2] - 0.5)


# -- EmbeddingBag sum/mean --------------------------------------------------------------
@st.composite
def bags(draw):
    v = draw(st.integers(1, 12))
    d = draw(st.integers(1, 9))
    lengths = np.array(draw(st.lists(st.integers(0, 5), min_size=0, max_size=6)), dtype=np.int64)
    n = int(lengths.sum())
    idx = np.array(draw(st.lists(st.integers(0, v - 1), min_size=n, max_size=n)), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(lengths) else lengths
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    pad = draw(st.sampled_from([-1]) | st.integers(0, v - 1))
    return v, d, idx, starts, lengths, dtype, pad


def _reference_bag_sum(weight, idx, starts, lengths, scale, psw, pad):
    out = np.zeros((len(starts), weight.shape[1]), weight.dtype)
    for b, (s, n) in enumerate(zip(starts, lengths)):
        for i in range(s, s + n):
            if idx[i] != pad:
                out[b] += (psw[i] if psw is not None else 1) * weight[idx[i]]
        if scale is not None:
            out[b] *= scale[b]
    return out


@needs_ext
@given(case=bags(), use_scale=st.booleans(), use_psw=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_bag_sum_and_its_backward_match_a_plain_loop(case, use_scale, use_psw, seed):
    v, d, idx, starts, lengths, dtype, pad = case
    rng = np.random.default_rng(seed)
    weight = rng.normal(size=(v, d)).astype(dtype)
    scale = rng.uniform(0.1, 1, len(starts)).astype(dtype) if use_scale else None
    psw = rng.normal(size=len(idx)).astype(dtype) if use_psw else None
    out = kernels.bag_sum(weight, idx, starts, lengths, scale, psw, pad)
    expected = _reference_bag_sum(weight, idx, starts, lengths, scale, psw, pad)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)

    grad = rng.normal(size=(len(starts), d)).astype(dtype)
    gw = kernels.bag_sum_backward(grad, idx, starts, lengths, v, scale, pad)
    per_entry = grad * (scale[:, None] if scale is not None else 1)
    seg = np.repeat(np.arange(len(starts)), lengths)
    keep = idx != pad
    expected_gw = np.zeros((v, d), dtype)
    np.add.at(expected_gw, idx[keep], per_entry[seg][keep])
    np.testing.assert_allclose(gw, expected_gw, rtol=1e-5, atol=1e-5)


@needs_ext
def test_fused_bag_sum_rejects_out_of_range_indices_and_bags_outside_idx():
    weight = np.zeros((3, 2), np.float32)
    starts, lengths = np.array([0, 1], np.int64), np.array([1, 1], np.int64)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        kernels.bag_sum(weight, np.array([0, 3]), starts, lengths)
    with pytest.raises(IndexError, match="index -1 is out of range"):
        kernels.bag_sum_backward(np.zeros((2, 2), np.float32), np.array([-1, 0]), starts, lengths, 3)
    with pytest.raises(ValueError, match="not inside idx"):
        kernels.bag_sum(weight, np.array([0]), starts, lengths)
    # A bag whose end overflows int64 (start + length wraps negative) is still outside idx.
    huge = np.array([2**63 - 1], np.int64)
    with pytest.raises(ValueError, match="not inside idx"):
        kernels.bag_sum(weight, np.array([0, 1]), np.array([1], np.int64), huge)
    with pytest.raises(ValueError, match="not inside idx"):
        kernels.bag_sum_backward(np.zeros((1, 2), np.float32), np.array([0, 1]), np.array([1], np.int64), huge, 3)
    assert kernels.bag_sum(weight[:, ::-1], np.array([0, 1]), starts, lengths) is None  # not contiguous


@needs_ext
@given(steps=st.lists(st.lists(st.integers(0, 9), min_size=0, max_size=12), min_size=1, max_size=4),
       lr=st.floats(1e-4, 0.1), betas=st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.9999)),
       seed=st.integers(0, 2**16))
def test_fused_sparse_adam_matches_torch_float32_and_the_numpy_reference(steps, lr, betas, seed):
    rng = np.random.default_rng(seed)
    start = rng.normal(size=(10, 3)).astype(np.float32)
    grads = [(np.array(rows, dtype=np.int64), rng.normal(size=(len(rows), 3)).astype(np.float32))
             for rows in steps]
    results = {}
    for backend in ("cython", "numpy"):
        p = Parameter(start.copy())
        opt = optim.SparseAdam([p], lr=lr, betas=betas)
        with kernels.use_backend(backend):
            for rows, vals in grads:   # uncoalesced: repeated rows are summed first
                p.grad = minigrad.SparseTensor(rows, vals.copy(), (10, 3))
                opt.step()
        results[backend] = p.detach().numpy()
    tp = torch.nn.Parameter(torch.from_numpy(start.copy()))
    topt = torch.optim.SparseAdam([tp], lr=lr, betas=betas)
    for rows, vals in grads:
        tp.grad = torch.sparse_coo_tensor(torch.from_numpy(rows)[None], torch.from_numpy(vals), (10, 3),
                                          check_invariants=True)
        topt.step()
    np.testing.assert_allclose(results["cython"], tp.detach().numpy(), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(results["cython"], results["numpy"], rtol=2e-6, atol=1e-7)


def _layer_gradients(fn, x, params, g, backend):
    """Output and input/parameter gradients of ``fn`` under ``backend``, as arrays."""
    xs = [minigrad.tensor(a, requires_grad=True) for a in (x,) + params]
    with kernels.use_backend(backend):
        y = fn(*xs)
        grads = minigrad.autograd.grad(y, xs, minigrad.tensor(g))
    return [y.detach().numpy()] + [gr.numpy() for gr in grads]


@needs_ext
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(shape=st.sampled_from([(5,), (3, 4), (2, 3, 6)]), affine=st.booleans(), k=st.integers(1, 2),
       transposed=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_layer_norm_and_gelu_match_the_numpy_code(dtype, shape, affine, k, transposed, seed):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=shape) * 3 + 1).astype(dtype)
    if transposed:
        x = x.T  # non-contiguous: the compiled loops step aside
    k = min(k, x.ndim)
    norm = x.shape[x.ndim - k:]
    g = rng.normal(size=x.shape).astype(dtype)
    params = (rng.normal(size=norm).astype(dtype), rng.normal(size=norm).astype(dtype)) if affine else ()
    # float32: LayerNorm's input gradient is a difference of nearly equal terms (zero for 2
    # normalised elements), so its rounding differs by more than the values' (as the op table allows).
    tol = {"rtol": 1e-3, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-11}

    def layer_norm(x, *wb):
        return F.layer_norm(x, norm, *wb)

    def gelu(x):
        return F.gelu(x, approximate="tanh")

    for fn, ps in ((layer_norm, params), (gelu, ())):
        fused = _layer_gradients(fn, x, ps, g, "cython")
        reference = _layer_gradients(fn, x, ps, g, "numpy")
        for a, b in zip(fused, reference):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_allclose(a, b, **tol)


@needs_ext
def test_fused_layer_norm_steps_aside_where_the_squares_overflow():
    x = np.array([[1e200, -1e200, 0.0]])
    assert kernels.layer_norm(x, None, None, 1e-5, 1) is None
    y = F.layer_norm(minigrad.tensor(x), (3,))
    np.testing.assert_allclose(y.numpy(), [[np.sqrt(1.5), -np.sqrt(1.5), 0.0]], rtol=1e-6)


@needs_ext
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(shape=st.sampled_from([(1,), (4, 1), (3, 7), (2, 3, 9), (2, 129)]),
       specials=st.lists(st.sampled_from([np.inf, -np.inf, np.nan, 1e30, -1e30]), max_size=3),
       transposed=st.booleans(), seed=st.integers(0, 2**16))
def test_compiled_log_softmax_matches_the_numpy_code_and_steps_aside_for_non_finite_rows(
        dtype, shape, specials, transposed, seed):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=shape) * 5).astype(dtype)
    flat = x.reshape(-1)
    for v in specials:
        flat[rng.integers(flat.size)] = v
    if transposed:
        x = x.T  # non-contiguous: the NumPy code
    g = rng.normal(size=x.shape).astype(dtype)
    fused = _layer_gradients(lambda t: F.log_softmax(t, -1), x, (), g, "cython")
    reference = _layer_gradients(lambda t: F.log_softmax(t, -1), x, (), g, "numpy")
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    for a, b in zip(fused, reference):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, equal_nan=True, **tol)
    # The loop takes -inf beside finite values (its exponential is 0); a row holding NaN or
    # +inf, or only -inf, goes to the NumPy code.
    with np.errstate(invalid="ignore"):
        rows_ok = not np.isnan(x).any() and not np.isposinf(x).any() and np.isfinite(x.max(axis=-1)).all()
    taken = rows_ok and x.flags.c_contiguous and x.shape[-1] <= kernels.LOG_SOFTMAX_MAX_ROW
    assert (kernels.log_softmax_last(x) is not None) == bool(taken)


@needs_ext
@pytest.mark.parametrize("x_shape, out_shape", [((3, 0), (3, 0)), ((3, 2), (2, 2)), ((3, 2), (3, 1))])
def test_compiled_log_softmax_passes_refuse_rows_they_would_read_or_write_past(x_shape, out_shape):
    from minigrad import _kernels
    x, out = np.zeros(x_shape, np.float32), np.zeros(out_shape, np.float32)
    with pytest.raises(ValueError):
        _kernels.shift_rows(x, out)
    if x_shape[1]:
        with pytest.raises(ValueError):
            _kernels.subtract_log_row_sums(out, x)
