"""Activation layers, Dropout, LayerNorm, one_hot, Bilinear, the distance layers and Unflatten against PyTorch."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad import nn

DTYPES = st.sampled_from([np.float64, np.float32])
SHAPES = st.sampled_from([(), (5,), (2, 3), (2, 3, 4)])


def _tol(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)


def _compare(module, tmodule, x, seed, params=()):
    outs = []
    for lib, mod in ((minigrad, module), (torch, tmodule)):
        xt = lib.tensor(x, requires_grad=True)
        out = mod(xt)
        cot = np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(x.dtype)
        out.backward(lib.tensor(cot))
        grads = [xt.grad.numpy()] + [getattr(mod, p).grad.numpy() for p in params if getattr(mod, p) is not None]
        outs.append((out.detach().numpy(), grads))
    (o, g), (to, tg) = outs
    assert o.shape == to.shape and o.dtype == to.dtype
    np.testing.assert_allclose(o, to, **_tol(x.dtype))
    for a, b in zip(g, tg):
        np.testing.assert_allclose(a, b, **_tol(x.dtype))


ACTIVATIONS = [
    ("ReLU", {}), ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.3}), ("GELU", {}),
    ("GELU", {"approximate": "tanh"}), ("Sigmoid", {}), ("Tanh", {}),
]


@given(st.sampled_from(ACTIVATIONS), SHAPES, DTYPES, st.integers(0, 2**31 - 1))
def test_activations_match_torch(activation, shape, dtype, seed):
    name, kw = activation
    x = (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)
    _compare(getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw), x, seed)


@given(st.sampled_from(["Softmax", "LogSoftmax"]), st.sampled_from([(5,), (2, 3), (2, 3, 4)]), DTYPES,
       st.integers(0, 2**31 - 1), st.data())
def test_softmax_layers_match_torch(name, shape, dtype, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)
    _compare(getattr(nn, name)(dim=dim), getattr(torch.nn, name)(dim=dim), x, seed)


def test_softmax_without_dim_warns_and_picks_torchs_dim():
    x = np.random.default_rng(0).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        out = F.softmax(minigrad.tensor(x))
    with pytest.warns(UserWarning):
        ref = torch.nn.functional.softmax(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="none or tanh"):
        F.gelu(minigrad.zeros(2), approximate="erf")


@given(st.sampled_from([(4,), (2, 3)]), st.sampled_from([(2,), (3, 4)]), DTYPES, st.booleans(), st.booleans(),
       st.sampled_from([1e-5, 0.1]), st.integers(0, 2**31 - 1))
def test_layer_norm_matches_torch(norm_shape, lead, dtype, affine, bias, eps, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(lead + norm_shape) * 2 + 1).astype(dtype)
    ours = nn.LayerNorm(norm_shape, eps=eps, elementwise_affine=affine, bias=bias)
    theirs = torch.nn.LayerNorm(norm_shape, eps=eps, elementwise_affine=affine, bias=bias)
    if dtype == np.float64:
        ours.double()
        theirs.double()
    if affine:  # non-trivial, identical affine parameters
        w = rng.standard_normal(norm_shape).astype(dtype)
        ours.weight.data[...] = w
        theirs.weight.data.copy_(torch.from_numpy(w))
        if bias:
            b = rng.standard_normal(norm_shape).astype(dtype)
            ours.bias.data[...] = b
            theirs.bias.data.copy_(torch.from_numpy(b))
    _compare(ours, theirs, x, seed, params=("weight", "bias") if affine else ())


def test_layer_norm_shape_error_matches_torch():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3\], expected input with shape \[\*, 3\], but got input of size\[2, 4\]"):
        nn.LayerNorm(3)(minigrad.zeros(2, 4))


def test_layer_norm_init_is_ones_and_zeros():
    ln = nn.LayerNorm((2, 3))
    assert (ln.weight.detach().numpy() == 1).all() and (ln.bias.detach().numpy() == 0).all()
    assert [n for n, _ in nn.LayerNorm(3, elementwise_affine=False).named_parameters()] == []


# -- Dropout -----------------------------------------------------------------------------------
@given(st.sampled_from([0.0, 0.1, 0.5, 0.9]), DTYPES, st.integers(0, 2**31 - 1))
def test_dropout_is_inverted_dropout_with_the_same_mask_in_backward(p, dtype, seed):
    minigrad.manual_seed(seed)
    x = minigrad.tensor(np.random.default_rng(seed).uniform(1, 2, (40, 50)).astype(dtype), requires_grad=True)
    drop = nn.Dropout(p)
    out = drop(x)
    kept = out.detach().numpy() != 0
    # kept elements are scaled by 1/(1-p), the others are zero
    np.testing.assert_allclose(out.detach().numpy()[kept], x.detach().numpy()[kept] / (1 - p), rtol=1e-6)
    out.backward(minigrad.ones(40, 50, dtype=dtype))
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)
    assert out.dtype == dtype
    if p > 0:
        assert abs((~kept).mean() - p) < 0.05


def test_dropout_is_identity_in_eval_and_p_one_zeros_everything():
    x = minigrad.randn(3, 4)
    drop = nn.Dropout(0.5).eval()
    assert drop(x) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_is_reproducible_with_manual_seed():
    x = minigrad.ones(10, 10)
    minigrad.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    minigrad.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), a)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_is_validated_like_torch(p):
    with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
        F.dropout(minigrad.ones(2), p)
    with pytest.raises(ValueError):
        torch.nn.Dropout(p)


# -- one_hot ---------------------------------------------------------------------------------
@given(st.lists(st.integers(0, 6), min_size=1, max_size=8), st.sampled_from([-1, 7, 9]), st.sampled_from([np.int64, np.int32]))
def test_one_hot_matches_torch(values, num_classes, dtype):
    idx = np.array(values)
    out = F.one_hot(minigrad.tensor(idx.astype(dtype)), num_classes)
    ref = torch.nn.functional.one_hot(torch.tensor(idx), num_classes)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        F.one_hot(minigrad.tensor([1, 3]), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative."):
        F.one_hot(minigrad.tensor([1, -1]), 3)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        F.one_hot(minigrad.tensor([1.0]))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor."):
        F.one_hot(minigrad.tensor(np.zeros(0, np.int64)))
    assert F.one_hot(minigrad.tensor(np.zeros((2, 0), np.int64)), 4).shape == (2, 0, 4)


# -- Bilinear ----------------------------------------------------------------------------------
@given(st.sampled_from([(), (3,), (2, 3)]), st.booleans(), DTYPES, st.integers(0, 2**31 - 1))
def test_bilinear_matches_torch_from_the_same_weights(lead, bias, dtype, seed):
    rng = np.random.default_rng(seed)
    ours, theirs = nn.Bilinear(4, 2, 3, bias=bias), torch.nn.Bilinear(4, 2, 3, bias=bias)
    if dtype == np.float64:
        ours.double()
        theirs.double()
    ours.load_state_dict({k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x1, x2 = rng.standard_normal(lead + (4,)).astype(dtype), rng.standard_normal(lead + (2,)).astype(dtype)
    cot = rng.standard_normal(lead + (3,)).astype(dtype)
    outs = []
    for lib, mod in ((minigrad, ours), (torch, theirs)):
        a, b = lib.tensor(x1, requires_grad=True), lib.tensor(x2, requires_grad=True)
        out = mod(a, b)
        out.backward(lib.tensor(cot))
        outs.append([out.detach().numpy(), a.grad.numpy(), b.grad.numpy()]
                    + [p.grad.numpy() for p in mod.parameters()])
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, **_tol(dtype))


def test_bilinear_init_is_uniform_in_one_over_sqrt_in1_and_repr_matches_torch():
    m = nn.Bilinear(16, 3, 50)
    bound = 1 / 4
    assert m.weight.shape == (50, 16, 3) and m.bias.shape == (50,)
    for p in (m.weight, m.bias):
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound and values.max() - values.min() > 1.5 * bound
    assert repr(m) == repr(torch.nn.Bilinear(16, 3, 50))
    assert repr(nn.Bilinear(1, 2, 3, bias=False)) == repr(torch.nn.Bilinear(1, 2, 3, bias=False))
    assert [n for n, _ in nn.Bilinear(1, 2, 3, bias=False).named_parameters()] == ["weight"]


# -- CosineSimilarity, PairwiseDistance ----------------------------------------------------------
def _both(fn, *arrays, grads=True):
    """``fn(lib, *tensors)`` on both libraries: [output, gradient of each input] as arrays."""
    results = []
    for lib in (minigrad, torch):
        xs = [lib.tensor(a, requires_grad=grads) for a in arrays]
        out = fn(lib, *xs)
        row = [out.detach().numpy()]
        if grads:
            out.sum().backward()
            row += [None if x.grad is None else x.grad.numpy() for x in xs]
        results.append(row)
    return results


def test_cosine_similarity_of_a_zero_vector_has_pytorchs_value_and_gradient():
    # PyTorch clamps each norm at eps without telling autograd: the value is 0 and the
    # zero vector's gradient is the other vector's direction over eps (large, finite).
    x1 = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
    x2 = np.array([[1.0, -2.0, 2.0], [0.0, 1e-9, 0.0]])
    for eps in (1e-8, 1e-3):
        got, want = _both(lambda lib, a, b: lib.nn.CosineSimilarity(dim=1, eps=eps)(a, b), x1, x2)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
        assert np.isfinite(got[1]).all() and abs(got[1][0]).max() > 0.1 / eps


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, float("inf")])
def test_pairwise_distance_module_matches_torch_including_identical_rows(p):
    x1 = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    x2 = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 2.5]])
    for keepdim in (False, True):
        got, want = _both(lambda lib, a, b: lib.nn.PairwiseDistance(p=p, keepdim=keepdim)(a, b), x1, x2)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        for g, w in zip(got[1:], want[1:]):
            # p = 0 counts non-zeros: no gradient (PyTorch leaves .grad None, minigrad gives zeros).
            np.testing.assert_allclose(g, np.zeros_like(g) if w is None else w, rtol=1e-10, atol=1e-12)


def test_pairwise_distance_of_0d_and_1d_inputs_and_module_reprs():
    for a, b in (((1.0,), (3.0,)), ([1.0, 2.0], [1.0, 4.0])):
        got, want = _both(lambda lib, x, y: lib.nn.functional.pairwise_distance(x[0] if x.ndim == 1 and len(x) == 1 else x,
                                                                              y[0] if y.ndim == 1 and len(y) == 1 else y),
                          np.array(a), np.array(b), grads=False)
        assert got[0].shape == want[0].shape
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    for name in ("CosineSimilarity", "PairwiseDistance"):
        assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())
    assert nn.PairwiseDistance(p=1.0).norm == torch.nn.PairwiseDistance(p=1.0).norm == 1.0


# -- Unflatten -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dim,sizes", [(1, (2, 3)), (-2, (2, -1)), (1, [3, 2]), (2, (1, 4, 1)), (0, (2,)),
                                       (1, minigrad.Size([6]))])
def test_unflatten_matches_torch(dim, sizes):
    x = np.arange(48.0).reshape(2, 6, 4)
    tsizes = torch.Size(sizes) if isinstance(sizes, minigrad.Size) else sizes
    ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, tsizes)
    got, want = _both(lambda lib, t: (ours if lib is minigrad else theirs)(t) * 2, x)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_array_equal(g, w)
    assert repr(ours) == repr(theirs).replace("torch.", "minigrad.")


@pytest.mark.parametrize("args,error,match", [
    ((1, (2, 4)), RuntimeError, r"unflatten: Provided sizes \[2, 4\] don't multiply up to the size of dim 1 \(6\) in the input tensor"),
    ((1, (4, -1)), RuntimeError, r"Provided sizes \[4, -1\] don't multiply up"),
    ((1, ()), RuntimeError, "unflatten: sizes must be non-empty"),
    ((5, (2, 3)), IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"),
])
def test_unflatten_errors_match_torch(args, error, match):
    x = np.zeros((2, 6))
    for lib in (minigrad, torch):
        with pytest.raises(error, match=match):
            lib.nn.Unflatten(*args)(lib.tensor(x))


def test_unflatten_checks_its_sizes_when_built_as_torch():
    for lib in (minigrad, torch):
        with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found type int"):
            lib.nn.Unflatten(1, 3)
        with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found element of type float at pos 1"):
            lib.nn.Unflatten(1, (2, 2.5))


# -- smooth activations and padding layers ------------------------------------------------
ACTIVATION_MODULES = [
    ("Softplus", ()), ("Softplus", (2, 10)), ("SiLU", ()), ("SiLU", (True,)), ("Mish", ()), ("ELU", ()),
    ("ELU", (0.5, True)), ("Hardtanh", ()), ("Hardtanh", (-2, 3, True)), ("LogSigmoid", ()),
    ("ReLU6", ()), ("ReLU6", (True,)), ("SELU", ()), ("SELU", (True,)), ("CELU", ()), ("CELU", (2, True)),
    ("Hardswish", ()), ("Hardswish", (True,)), ("Hardsigmoid", (True,)), ("Softsign", ()), ("Tanhshrink", ()),
    ("Softshrink", ()), ("Softshrink", (1,)), ("Hardshrink", (0.25,)), ("Threshold", (0.1, 20)),
    ("Threshold", (-1.5, 2.5, True)),
]


@pytest.mark.parametrize("name, args", ACTIVATION_MODULES)
def test_activation_modules_print_and_compute_as_torch(name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    # The class tree is PyTorch's: a ZeroPad2d is a ConstantPad2d, a ReflectionPad1d is not.
    pads = [n for n, _, _ in PAD_MODULES]
    assert [c for c in pads if isinstance(theirs, getattr(torch.nn, c))] == \
           [c for c in pads if isinstance(ours, getattr(nn, c))]
    x = np.random.default_rng(0).normal(scale=4.0, size=(3, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(minigrad.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-7)
    # ReLU6 is a Hardtanh, in both libraries.
    assert isinstance(ours, nn.Hardtanh) == isinstance(theirs, torch.nn.Hardtanh)


def test_hardtanh_module_checks_its_bounds_and_takes_the_old_keyword_names_with_a_warning():
    with pytest.raises(AssertionError, match=r"max_val \(1.0\) must be greater than min_val \(1.0\)"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        m = nn.Hardtanh(min_value=-2.0)
    assert repr(m) == "Hardtanh(min_val=-2.0, max_val=1.0)"


def test_smooth_activations_stay_finite_at_extreme_inputs_with_torch_values_and_gradients():
    x = np.array([-1e4, -100.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 100.0, 1e4])
    for name in ("softplus", "logsigmoid", "silu", "mish", "elu"):
        ours, theirs = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ref = getattr(F, name)(ours), getattr(torch.nn.functional, name)(theirs)
        np.testing.assert_allclose(y.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-300, err_msg=name)
        (g,) = minigrad.autograd.grad(y.sum(), [ours], create_graph=True)
        (r,) = torch.autograd.grad(ref.sum(), [theirs], create_graph=True)
        np.testing.assert_allclose(g.detach().numpy(), r.detach().numpy(), rtol=1e-12, atol=1e-300, err_msg=name)
        (gg,) = minigrad.autograd.grad(g.sum(), [ours])
        (rr,) = torch.autograd.grad(r.sum(), [theirs])
        gg, rr = gg.detach().numpy(), rr.numpy()
        assert np.isfinite(gg).all(), name
        # PyTorch's second derivatives overflow to NaN for mish at 1e4 and lose relative accuracy for
        # logsigmoid in the far tail: compared where PyTorch's is finite, to an absolute tolerance.
        ok = np.isfinite(rr)
        np.testing.assert_allclose(gg[ok], rr[ok], rtol=1e-9, atol=1e-12, err_msg=name)


def test_hardtanh_gradient_is_zero_at_the_bounds_and_integers_stay_integers():
    x = minigrad.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    F.hardtanh(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    y = F.hardtanh(minigrad.tensor([-3, 0, 3]), -1.0, 2.0)
    assert y.dtype == minigrad.int64 and y.tolist() == [-1, 0, 2]


# (name, kwargs, the kinks): each input holds the kinks and NaN, and is long enough for PyTorch's
# vectorised kernels, whose values at the kinks and at NaN minigrad takes at every length.
KINKED = [
    ("relu6", {}, (0.0, 6.0)), ("selu", {}, (0.0,)), ("celu", {"alpha": 2.0}, (0.0,)), ("hardswish", {}, (-3.0, 3.0)),
    ("hardsigmoid", {}, (-3.0, 3.0)), ("softshrink", {}, (-0.5, 0.5)), ("softshrink", {"lambd": 0.0}, (0.0,)),
    ("hardshrink", {"lambd": 1.5}, (-1.5, 1.5)), ("hardshrink", {"lambd": -1.0}, (-1.0, 1.0)),
    ("threshold", {"threshold": 0.5, "value": 20.0}, (0.5,)),
]


@pytest.mark.parametrize("name, kwargs, kinks", KINKED, ids=[f"{n}{kw}" for n, kw, _ in KINKED])
def test_piecewise_activations_take_pytorchs_values_and_gradients_at_their_kinks_and_at_nan(name, kwargs, kinks):
    x = np.resize(np.array([*kinks, np.nan, -np.inf, np.inf, -7.0, -0.25, 0.0, 0.25, 7.0]), 128)
    got, want = [], []
    for lib, out in ((minigrad, got), (torch, want)):
        w = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn.functional, name)(w, **kwargs)
        (g,) = lib.autograd.grad(y, [w], grad_outputs=lib.ones(x.shape, dtype=lib.float64))
        out += [y.detach().numpy(), g.numpy()]
    # PyTorch's hardsigmoid multiplies by 1/6 rounded to float32, also in float64.
    rtol = 1e-7 if name == "hardsigmoid" else 1e-14
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True)


@pytest.mark.parametrize("name, kwargs", [("selu", {}), ("celu", {"alpha": 0.5}), ("hardswish", {})])
def test_second_derivatives_at_the_kinks_are_pytorchs(name, kwargs):
    x = np.array([-3.0, 0.0, 3.0, -1.0, 1.0])
    got = []
    for lib in (minigrad, torch):
        w = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(getattr(lib.nn.functional, name)(w, **kwargs).sum(), [w], create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), [w])
        got.append(gg.detach().numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12, atol=0)


def test_hardsigmoid_slope_is_one_sixth_inside_and_zero_at_and_beyond_three():
    x = minigrad.tensor([-4.0, -3.0, -1.0, 0.0, 2.9, 3.0, 4.0, float("nan")], dtype=minigrad.float64, requires_grad=True)
    F.hardsigmoid(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1 / 6, 1 / 6, 1 / 6, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("name, args", [
    ("selu_", ()), ("celu_", (2.0,)), ("threshold_", (0.5, -7.0)), ("relu_", ()), ("elu_", (2.0,)),
    ("hardtanh_", (-1.0, 1.0)), ("leaky_relu_", (0.2,)),
])
def test_in_place_activations_write_into_the_input_with_torchs_gradient_and_node(name, args):
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    cot = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    results = []
    for lib in (minigrad, torch):
        w = lib.tensor(x, requires_grad=True)
        y = w * 1.5
        out = getattr(lib.nn.functional, name)(y, *args)
        assert out is y and y._version == 1
        (y * lib.tensor(cot)).sum().backward()
        results.append((y.grad_fn.name(), y.detach().numpy(), w.grad.numpy()))
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            getattr(lib.nn.functional, name)(w, *args)
    (name0, y0, g0), (name1, y1, g1) = results
    assert name0 == name1
    np.testing.assert_allclose(y0, y1, rtol=1e-12)
    np.testing.assert_allclose(g0, g1, rtol=1e-12)


def test_an_in_place_activation_of_a_saved_tensor_fails_backward_as_in_pytorch():
    for lib in (minigrad, torch):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        y = w.exp()  # saves its output
        lib.nn.functional.selu_(y)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


@pytest.mark.parametrize("name", ["relu6", "selu", "celu", "hardswish", "hardsigmoid", "threshold"])
def test_inplace_true_is_accepted_and_leaves_the_input_as_it_was(name):
    args = (0.5, 2.0) if name == "threshold" else ()
    x = minigrad.tensor([-4.0, 0.25, 7.0])
    y = getattr(F, name)(x, *args, inplace=True)
    assert x.tolist() == [-4.0, 0.25, 7.0] and x._version == 0
    np.testing.assert_allclose(y.numpy(), getattr(torch.nn.functional, name)(torch.tensor(x.numpy()), *args).numpy())


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "float16", "float32"])
@pytest.mark.parametrize("threshold, value", [(1, 20), (0.5, 2.5), (-0.5, -2.7), (-1, 5), (2, -3), (2, 300), (1e30, 0),
                                              (0, 1e30), (7e4, 0), (1e39, 0)])
def test_threshold_converts_its_numbers_to_the_input_dtype_as_pytorch(dtype, threshold, value):
    outcomes = []
    for lib in (minigrad, torch):
        x = lib.tensor([-3, 0, 1, 2, 7]).to(getattr(lib, dtype))
        try:
            y = lib.nn.functional.threshold(x, threshold, value)
            outcomes.append((str(y.dtype).split(".")[1], y.tolist()))
        except RuntimeError as e:
            outcomes.append(str(e))
    assert outcomes[0] == outcomes[1]


PAD_MODULES = [
    ("ConstantPad1d", (2, 3.5), (2, 3, 4)), ("ConstantPad1d", ((1, -1), 0.0), (2, 3, 4)),
    ("ConstantPad2d", ((1, 2, 0, 1), 1.0), (1, 2, 3, 4)), ("ConstantPad3d", (1, 0.5), (1, 2, 2, 3)),
    ("ZeroPad1d", ((1, 2),), (2, 3)), ("ZeroPad2d", (1,), (2, 3, 4)), ("ZeroPad3d", ((1, 0, 0, 1, 1, 0),), (1, 2, 2, 2)),
    ("ReflectionPad1d", (2,), (2, 3, 4)), ("ReflectionPad2d", ((1, 2, 0, 1),), (1, 2, 3, 4)),
    ("ReplicationPad1d", ((3, 1),), (2, 3, 4)), ("ReplicationPad2d", (2,), (2, 3, 4)),
    ("CircularPad1d", (2,), (2, 3, 4)), ("CircularPad2d", ((1, 2, 2, 1),), (1, 2, 3, 4)),
]


@pytest.mark.parametrize("name, args, shape", PAD_MODULES)
def test_padding_modules_print_pad_and_backpropagate_as_torch(name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    # The class tree is PyTorch's: a ZeroPad2d is a ConstantPad2d, a ReflectionPad1d is not.
    pads = [n for n, _, _ in PAD_MODULES]
    assert [c for c in pads if isinstance(theirs, getattr(torch.nn, c))] == \
           [c for c in pads if isinstance(ours, getattr(nn, c))]
    x = np.random.default_rng(1).normal(size=shape)
    a, b = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ref = ours(a), theirs(b)
    np.testing.assert_array_equal(y.detach().numpy(), ref.detach().numpy())
    u = np.random.default_rng(2).normal(size=ref.shape)
    y.backward(minigrad.tensor(u))
    ref.backward(torch.tensor(u))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_constant_pad_keeps_integer_and_bool_dtypes():
    y = F.pad(minigrad.tensor([[1, 2]]), (1, 1), value=7)
    assert y.dtype == minigrad.int64 and y.tolist() == [[7, 1, 2, 7]]
    assert F.pad(minigrad.tensor([True]), (1, 0)).tolist() == [False, True]


def test_normalize_leaves_a_zero_vector_zero_with_torch_gradient():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1e-13, 0.0]])
    a, b = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ref = F.normalize(a), torch.nn.functional.normalize(b)
    np.testing.assert_allclose(y.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    u = np.array([[1.0, -2.0], [0.5, 0.25], [1.0, 1.0]])
    y.backward(minigrad.tensor(u))
    ref.backward(torch.tensor(u))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
