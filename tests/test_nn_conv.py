"""Convolution, pooling and batch-norm modules against PyTorch; the index-table cache; both kernel backends.

The functional forms' parity over random shapes and options (values and every
gradient), finite differences and error inputs are in ``op_table_conv.py``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import minigrad
import minigrad.nn.functional as F
from minigrad import kernels, nn
from minigrad.ops import conv as conv_ops


def _t(a, requires_grad=False):
    return minigrad.Tensor._make(np.array(a, dtype=np.float64), requires_grad, None)


def _copy_params(module, torch_module):
    """Give ``module`` the float64 parameters of ``torch_module`` (same names)."""
    torch_module.double()
    state = {k: minigrad.tensor(v.detach().numpy().copy()) for k, v in torch_module.state_dict().items()}
    module.double().load_state_dict(state)
    return module


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.Conv2d(3, 4, 3),
        lambda m: m.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(2, 1), groups=2, bias=False),
        lambda m: m.Conv2d(2, 4, 3, padding="same"),
        lambda m: m.Conv1d(3, 2, 4, stride=2, padding=1),
        lambda m: m.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, groups=2),
        lambda m: m.ConvTranspose1d(2, 3, 2, stride=3),
        lambda m: m.MaxPool2d(3, stride=2, padding=1),
        lambda m: m.MaxPool2d(2),
        lambda m: m.MaxPool1d(3, ceil_mode=True),
        lambda m: m.AvgPool2d(2),
        lambda m: m.AvgPool1d(3, stride=2),
        lambda m: m.AdaptiveAvgPool2d((2, 3)),
        lambda m: m.AdaptiveAvgPool1d(2),
        lambda m: m.Unfold(2, padding=1),
        lambda m: m.Fold((4, 4), 2),
        lambda m: m.BatchNorm2d(4),
        lambda m: m.BatchNorm1d(3, momentum=None, affine=False),
    ],
)
def test_module_repr_is_pytorchs(make):
    assert repr(make(nn)) == repr(make(tnn))


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.Conv2d(3, 4, 3, padding=1), (2, 3, 6, 5)),
        (lambda m: m.Conv2d(4, 4, 3, groups=4, stride=2), (2, 4, 7, 7)),
        (lambda m: m.Conv1d(3, 2, 4, padding="same", dilation=2), (2, 3, 9)),
        (lambda m: m.ConvTranspose2d(3, 2, (3, 2), stride=(2, 1), padding=1), (2, 3, 4, 5)),
        (lambda m: m.ConvTranspose1d(2, 3, 3, stride=2, output_padding=1), (2, 2, 5)),
        (lambda m: m.MaxPool1d(3, stride=2, padding=1, dilation=2), (2, 3, 9)),
        (lambda m: m.AvgPool1d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 8)),
        (lambda m: m.AvgPool2d((2, 3), stride=(1, 2), padding=(1, 1)), (2, 3, 5, 6)),
        (lambda m: m.AdaptiveAvgPool1d(3), (2, 3, 7)),
        (lambda m: m.AdaptiveAvgPool2d((None, 2)), (3, 5, 7)),
    ],
)
def test_layers_match_pytorch_with_the_same_parameters(make, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    ref_module = make(tnn)
    module = _copy_params(make(nn), ref_module)
    xt = torch.tensor(x, requires_grad=True)
    ref = ref_module(xt)
    xm = _t(x, True)
    out = module(xm)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    u = np.random.default_rng(1).standard_normal(out.shape)
    ref.backward(torch.tensor(u))
    out.backward(minigrad.tensor(u))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), (_, q) in zip(module.named_parameters(), ref_module.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("make", [lambda m: m.Conv2d(6, 4, (3, 5), groups=2), lambda m: m.ConvTranspose2d(6, 4, 3, groups=2)])
def test_conv_init_is_uniform_within_one_over_sqrt_fan_in(make):
    minigrad.manual_seed(0)
    module, ref = make(nn), make(tnn)
    assert module.weight.shape == tuple(ref.weight.shape) and module.weight.dtype == np.float32
    fan_in = module.weight.shape[1] * math.prod(module.kernel_size)
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(module.weight.detach().numpy()).max() <= bound and np.abs(module.bias.detach().numpy()).max() <= bound
    assert np.abs(module.weight.detach().numpy()).max() > 0.9 * bound  # spread over the interval, not a constant
    # U(−b, b) has standard deviation b/√3.
    assert abs(module.weight.detach().numpy().std() - bound / math.sqrt(3)) < 0.2 * bound


def test_conv_module_arguments_are_checked_as_pytorch_does():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 6, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(4, 6, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(4, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 6, 3, padding_mode="mirror")
    with pytest.raises(NotImplementedError, match="padding_mode='reflect' is not supported"):
        nn.Conv2d(4, 6, 3, padding_mode="reflect")


def test_index_tables_are_computed_once_per_geometry_and_the_cache_is_bounded():
    conv_ops.windows.cache_clear()
    x = _t(np.ones((2, 3, 6, 6)))
    w = _t(np.ones((4, 3, 3, 3)))
    F.conv2d(x, w)
    F.conv2d(x, w)
    info = conv_ops.windows.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    assert not conv_ops.windows(2, 3, 6, 6, (3, 3)).index.flags.writeable  # shared, so read-only
    for size in range(4, 4 + 2 * info.maxsize):
        F.conv2d(_t(np.ones((1, 3, size, size))), w)
    assert conv_ops.windows.cache_info().currsize == info.maxsize


def test_unfold_then_matmul_is_conv2d_and_fold_of_unfold_counts_the_windows_of_each_pixel():
    rng = np.random.default_rng(0)
    x, w = _t(rng.standard_normal((2, 3, 5, 6))), _t(rng.standard_normal((4, 3, 2, 3)))
    cols = F.unfold(x, (2, 3), padding=1)  # (N, C·kh·kw, L)
    by_hand = (w.reshape(4, -1) @ cols).reshape(2, 4, 6, 6)
    np.testing.assert_allclose(by_hand.detach().numpy(), F.conv2d(x, w, padding=1).detach().numpy(), rtol=1e-12)
    # col2im is the adjoint of im2col: fold(unfold(1)) is how many windows read each pixel.
    ones = _t(np.ones((1, 1, 4, 4)))
    counts = F.fold(F.unfold(ones, 3, padding=1), (4, 4), 3, padding=1)
    expected = np.array([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]], dtype=float)
    np.testing.assert_array_equal(counts.detach().numpy()[0, 0], expected)


@pytest.mark.skipif("cython" not in kernels.available_backends(), reason="compiled kernels not built")
def test_both_kernel_backends_give_the_same_convolution_and_gradients():
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((2, 4, 7, 7)), rng.standard_normal((6, 2, 3, 3))
    results = []
    for backend in ("numpy", "cython"):
        with kernels.use_backend(backend):
            x, w = _t(x0, True), _t(w0, True)
            y = F.max_pool2d(F.conv2d(x, w, stride=2, padding=1, groups=2), 2, stride=1)
            y.backward(minigrad.tensor(np.ones(y.shape)))
            results.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_an_empty_batch_gives_an_empty_output():
    x = _t(np.ones((0, 3, 5, 5)), True)
    y = F.conv2d(x, _t(np.ones((4, 3, 3, 3))))
    assert y.shape == tuple(TF.conv2d(torch.ones(0, 3, 5, 5), torch.ones(4, 3, 3, 3)).shape)
    y.sum().backward()
    assert x.grad.shape == x.shape


def test_float32_input_stays_float32_through_a_cnn():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    out = model(minigrad.randn(4, 1, 6, 6))
    assert out.dtype == np.float32 and out.shape == (4, 3)
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


@pytest.mark.parametrize("nd", [1, 2])
def test_max_pool_indices_are_pytorchs(nd):
    x = np.random.default_rng(0).permutation(2 * 3 * 7 * 6).reshape((2, 3, 7, 6) if nd == 2 else (2, 3, 42)) / 10.0
    pool, ref_pool = (F.max_pool2d, TF.max_pool2d) if nd == 2 else (F.max_pool1d, TF.max_pool1d)
    values, indices = pool(_t(x), 3, stride=2, padding=1, return_indices=True)
    ref_values, ref_indices = ref_pool(torch.tensor(x), 3, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(values.detach().numpy(), ref_values.numpy())
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.detach().numpy(), ref_indices.numpy())
    module_values, module_indices = nn.MaxPool2d(3, 2, 1, return_indices=True)(_t(x)) if nd == 2 else \
        nn.MaxPool1d(3, 2, 1, return_indices=True)(_t(x))
    np.testing.assert_array_equal(module_indices.detach().numpy(), ref_indices.numpy())


def test_max_pool_sends_each_windows_gradient_to_its_maximum_only():
    x = _t([[[[1.0, 5.0, 2.0], [0.0, 3.0, 4.0], [6.0, 1.0, 0.5]]]], True)
    y = F.max_pool2d(x, 2, stride=1)  # overlapping windows: 5 wins twice
    np.testing.assert_array_equal(y.detach().numpy()[0, 0], [[5.0, 5.0], [6.0, 4.0]])
    y.backward(minigrad.tensor([[[[1.0, 10.0], [100.0, 1000.0]]]]))
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 11.0, 0], [0, 0, 1000.0], [100.0, 0, 0]])


def test_a_window_with_tied_maxima_sends_its_gradient_to_the_first_of_them_as_pytorch():
    x = np.array([[[[2.0, 2.0, 1.0], [2.0, 2.0, 2.0], [0.0, 2.0, 2.0]]]])
    g = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])
    m = _t(x, True)
    F.max_pool2d(m, 2, stride=1).backward(minigrad.tensor(g))
    t = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(t, 2, stride=1).backward(torch.tensor(g))
    np.testing.assert_array_equal(m.grad.data, t.grad.numpy())
    assert m.grad.numpy().sum() == g.sum()  # each window's gradient arrives once, not once per tie


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.BatchNorm2d(3), (4, 3, 2, 3)),
        (lambda m: m.BatchNorm1d(3, momentum=None), (5, 3)),
        (lambda m: m.BatchNorm1d(2, momentum=0.3), (4, 2, 3)),
        (lambda m: m.BatchNorm2d(3, affine=False), (2, 3, 2, 2)),
        (lambda m: m.BatchNorm1d(3, track_running_stats=False), (4, 3)),
    ],
)
def test_batch_norm_trains_and_evaluates_as_pytorch(make, shape):
    rng = np.random.default_rng(0)
    module, ref = make(nn), make(tnn).double()
    if module.weight is not None:
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(rng.standard_normal(shape[1])))
            ref.bias.copy_(torch.tensor(rng.standard_normal(shape[1])))
    _copy_params(module, ref)
    assert list(module.state_dict()) == list(ref.state_dict())
    for step in range(3):
        x = rng.standard_normal(shape) * (step + 1) + step
        xm, xt = _t(x, True), torch.tensor(x, requires_grad=True)
        out, expected = module(xm), ref(xt)
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        u = rng.standard_normal(shape)
        out.backward(minigrad.tensor(u))
        expected.backward(torch.tensor(u))
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        for (name, p), (_, q) in zip(module.named_parameters(), ref.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    for key, value in ref.state_dict().items():
        np.testing.assert_allclose(module.state_dict()[key].detach().numpy(), value.numpy(), rtol=1e-12, err_msg=key)
    module.eval()
    ref.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(module(_t(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_rejects_what_pytorch_rejects():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(minigrad.ones(3, 2, 2))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(minigrad.ones(2, 3, 2, 2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(minigrad.ones(1, 3))
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        nn.BatchNorm2d(4)(minigrad.ones(2, 3, 2, 2))
    bn = nn.BatchNorm1d(3).eval()
    assert bn(minigrad.ones(1, 3)).shape == (1, 3)  # one sample is fine with running statistics
