"""``Tensor.data``: a tensor sharing the values, outside the graph, as in PyTorch.

Programs written for PyTorch update parameters through it (``p.data.add_(...)``),
initialise through it (``nn.init.kaiming_normal_(w.data)``) and read results
through it (``torch.max(out.data, 1)``). Each test runs the same code with both
libraries and compares.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad

LIBS = [pytest.param(torch, id="torch"), pytest.param(minigrad, id="minigrad")]


def _array(t):
    return t.detach().numpy()


@pytest.mark.parametrize("lib", LIBS)
def test_data_shares_memory_and_is_outside_the_graph(lib):
    leaf = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for t in (leaf, leaf * 2):
        d = t.data
        assert type(d) is lib.Tensor and d is not t
        assert np.shares_memory(_array(d), _array(t))
        assert d.requires_grad is False and d.grad_fn is None and d.is_leaf
        assert d.shape == t.shape and d.dtype == t.dtype


@pytest.mark.parametrize("lib", LIBS)
def test_a_parameters_data_is_a_plain_tensor(lib):
    p = lib.nn.Parameter(lib.zeros(2, 3))
    assert type(p.data) is lib.Tensor and p.data.requires_grad is False
    assert np.shares_memory(_array(p.data), _array(p))


@pytest.mark.parametrize("lib", LIBS)
def test_data_has_a_version_counter_of_its_own(lib):
    t = lib.zeros(3) * 1
    d = t.data
    d.add_(1.0)
    assert (d._version, t._version) == (1, 0)
    assert t.tolist() == [1.0, 1.0, 1.0]
    assert t.data._version == 0


def _sgd_by_hand(lib, steps=3, lr=0.1):
    gen = np.random.default_rng(0)
    w0, x0 = gen.standard_normal((4, 3)), gen.standard_normal((5, 3))
    w = lib.nn.Parameter(lib.tensor(w0, dtype=lib.float64))
    x = lib.tensor(x0, dtype=lib.float64)
    losses, versions = [], []
    for _ in range(steps):
        loss = (x @ w.T).tanh().pow(2).sum()
        loss.backward()
        w.data.add_(w.grad, alpha=-lr)
        w.grad = None
        losses.append(loss.item())
        versions.append(w._version)
    return np.array(losses), _array(w), versions


def test_updating_a_parameter_through_data_matches_pytorch_and_keeps_its_version():
    ours, theirs = _sgd_by_hand(minigrad), _sgd_by_hand(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    assert ours[2] == theirs[2] == [0, 0, 0]


@pytest.mark.parametrize("lib", LIBS)
def test_an_update_through_data_between_forward_and_backward_is_not_an_error(lib):
    w = lib.nn.Parameter(lib.ones(3))
    loss = (w * w).sum()  # Mul saves w
    w.data.add_(1.0)
    loss.backward()  # backward reads the updated w: PyTorch's documented hazard of .data
    assert w.grad.tolist() == [4.0, 4.0, 4.0]


@pytest.mark.parametrize("lib", LIBS)
def test_a_change_through_data_after_saving_goes_unnoticed_while_the_same_change_on_the_tensor_is_caught(lib):
    leaf = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    x = leaf * 1
    y = (x ** 2).sum()  # pow saves its input x
    x.data.mul_(3.0)
    y.backward()
    assert leaf.grad.tolist() == [6.0, 12.0]  # 2x with the changed x: unchecked, as in PyTorch

    x = leaf * 1
    y = (x ** 2).sum()
    x.mul_(3.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("lib", LIBS)
def test_kaiming_normal_on_data_initialises_the_parameter_in_place(lib):
    lib.manual_seed(0)
    lin = lib.nn.Linear(400, 300)
    before = lin.weight
    lib.nn.init.kaiming_normal_(lin.weight.data)
    assert lin.weight is before and lin.weight.requires_grad and lin.weight.is_leaf
    std = float(_array(lin.weight).std())
    assert abs(std - np.sqrt(2.0 / 400)) < 0.05 * np.sqrt(2.0 / 400)


def test_max_over_data_gives_values_and_indices_as_pytorch():
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    outs = []
    for lib in (minigrad, torch):
        out = lib.nn.functional.softmax(lib.tensor(x, requires_grad=True) * 2, dim=1)
        values, indices = lib.max(out.data, 1)
        assert values.requires_grad is False
        outs.append((_array(values), _array(indices)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-6)
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("shape", [(2, 3), (5,)], ids=["same-shape", "other-shape"])
def test_assigning_data_rebinds_the_values_and_keeps_the_tensor(lib, shape):
    t = lib.nn.Parameter(lib.zeros(2, 3))
    other = lib.ones(*shape)
    t.data = other
    assert t.shape == other.shape and t.requires_grad and t.is_leaf
    assert np.shares_memory(_array(t), _array(other))
    other.add_(1.0)
    assert _array(t).tolist() == other.tolist()
    t.sum().backward()
    assert t.grad.shape == other.shape


@pytest.mark.parametrize("value", [np.zeros(3), [1.0, 2.0], 3.0], ids=["ndarray", "list", "float"])
def test_assigning_data_that_is_not_a_tensor_is_pytorchs_type_error(value):
    messages = []
    for lib in (minigrad, torch):
        with pytest.raises(TypeError) as err:
            lib.zeros(3).data = value
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_assigning_integer_data_to_a_tensor_that_requires_grad_is_pytorchs_error():
    messages = []
    for lib in (minigrad, torch):
        t = lib.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError) as err:
            t.data = lib.zeros(3, dtype=lib.int64)
        messages.append(str(err.value))
        plain = lib.zeros(3)
        plain.data = lib.arange(3)
        assert plain.dtype == lib.int64
    assert messages[0] == messages[1]
