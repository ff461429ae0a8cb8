"""Gradients of gradients: the engine records the backward pass under ``create_graph``.

Each op's backward is written once, in NumPy; under ``create_graph`` the engine
hands it tensors and NumPy dispatches every call on them back to minigrad's ops.
These tests prove the mechanism with ops whose backward is plain arithmetic
(add, sub, neg, mul, div, exp through its saved output, tanh, matmul), against
PyTorch or the derivative worked out by hand. The op table checks every op to
second order.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn
from minigrad.autograd import Primitive


def both(values, requires_grad=True):
    """The same float64 values as a minigrad leaf and a torch leaf."""
    arr = np.asarray(values, dtype=np.float64)
    return minigrad.tensor(arr, requires_grad=requires_grad), torch.tensor(arr, requires_grad=requires_grad)


def close(m, t, tol=1e-10):
    np.testing.assert_allclose(np.asarray(m.detach()), t.detach().numpy(), rtol=tol, atol=tol)


# -- the mechanism ------------------------------------------------------------------------
def test_second_and_third_derivatives_of_a_cubic_written_as_products():
    x = minigrad.tensor([-1.5, 0.5, 2.0], dtype=minigrad.float64, requires_grad=True)
    (d1,) = minigrad.autograd.grad((x * x * x).sum(), x, create_graph=True)
    (d2,) = minigrad.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = minigrad.autograd.grad(d2.sum(), x)
    xs = x.detach().numpy()
    np.testing.assert_allclose(d1.detach().numpy(), 3 * xs**2)
    np.testing.assert_allclose(d2.detach().numpy(), 6 * xs)
    np.testing.assert_allclose(d3.numpy(), [6.0, 6.0, 6.0])


def test_a_first_order_gradient_has_no_graph_and_a_create_graph_one_has():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (g,) = minigrad.autograd.grad((x * x).sum(), x)
    assert g.grad_fn is None and not g.requires_grad
    (g,) = minigrad.autograd.grad((x * x).sum(), x, create_graph=True)
    assert g.grad_fn is not None and g.requires_grad


def test_hessian_vector_product_of_a_two_layer_expression_matches_pytorch():
    rng = np.random.default_rng(0)
    x_np, w1_np, w2_np = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    b_np = rng.standard_normal(5)
    v1_np, v2_np = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))

    def loss(lib, x, w1, b, w2):
        h = lib.tanh(x @ w1 + b)  # b is broadcast over the batch
        out = h @ w2
        return ((out - 0.5) * (out - 0.5) / 3.0 - lib.exp(-out) * 0.1).sum()

    results = []
    for lib in (minigrad, torch):
        x = lib.tensor(x_np)
        w1, b, w2 = (lib.tensor(a, requires_grad=True) for a in (w1_np, b_np, w2_np))
        g1, gb, g2 = lib.autograd.grad(loss(lib, x, w1, b, w2), (w1, b, w2), create_graph=True)
        gv = (g1 * lib.tensor(v1_np)).sum() + (g2 * lib.tensor(v2_np)).sum() + gb.sum()
        results.append((g1, gb, g2) + lib.autograd.grad(gv, (w1, b, w2)))
    for m, t in zip(*results):
        close(m, t)


def test_third_order_derivative_matches_pytorch():
    m, t = both([0.3, -1.2, 0.7])
    outs = []
    for lib, x in ((minigrad, m), (torch, t)):
        y = (lib.exp(x) * x / (x * x + 1.0)).sum()
        for _ in range(3):
            (y,) = lib.autograd.grad(y, x, create_graph=True)
            outs.append(y)
            y = y.sum()
    for a, b in zip(outs[:3], outs[3:]):
        close(a, b)


def test_saved_tensors_under_create_graph_are_the_inputs_and_the_output_with_this_node():
    seen = {}

    class Square(Primitive):
        @staticmethod
        def forward(ctx, x):
            y = x * x
            ctx.save_for_backward(x, y, np.full_like(x, 2.0))
            return y

        @staticmethod
        def backward(ctx, grad):
            seen["saved"] = ctx.saved_tensors
            x, _, two = ctx.saved_tensors
            return grad * two * x

    x = minigrad.tensor([3.0], dtype=minigrad.float64, requires_grad=True)
    y = Square.apply(x)
    (g,) = minigrad.autograd.grad(y.sum(), x, retain_graph=True)
    assert all(type(a) is np.ndarray for a in seen["saved"])  # first order: arrays
    (g,) = minigrad.autograd.grad(y.sum(), x, create_graph=True)
    saved_x, saved_y, two = seen["saved"]
    assert saved_x is x
    assert isinstance(saved_y, minigrad.Tensor) and saved_y.grad_fn is y.grad_fn
    assert type(two) is np.ndarray  # neither input nor output: a constant
    assert minigrad.autograd.grad(g.sum(), x)[0].item() == 2.0


def test_gradient_of_a_leafs_grad_after_backward_with_create_graph_matches_pytorch():
    m, t = both([0.5, -2.0, 1.5])
    for lib, x in ((minigrad, m), (torch, t)):
        (lib.exp(x) * x * x).sum().backward(create_graph=True)
    assert m.grad.grad_fn is not None
    close(m.grad, t.grad)
    m2 = minigrad.autograd.grad((m.grad * m.grad).sum(), m)
    t2 = torch.autograd.grad((t.grad * t.grad).sum(), t)
    close(m2[0], t2[0])


def test_grad_accumulates_out_of_place_under_create_graph():
    x = minigrad.tensor([2.0], dtype=minigrad.float64, requires_grad=True)
    (x * x).sum().backward(create_graph=True)
    first = x.grad
    (x * x * x).sum().backward(create_graph=True)
    assert first.item() == 4.0  # the first .grad tensor is part of a graph: not written into
    assert x.grad.item() == 4.0 + 12.0
    assert minigrad.autograd.grad(x.grad.sum(), x)[0].item() == 2.0 + 12.0


def test_gradient_with_respect_to_grad_outputs_gives_the_jacobian_vector_product():
    """The double-vjp trick: d/du ⟨u, J v⟩... here J u with u requiring grad."""
    m, t = both([[0.5, -1.0], [2.0, 0.3]])
    outs = []
    for lib, x in ((minigrad, m), (torch, t)):
        y = lib.exp(x) * x
        u = lib.tensor(np.zeros((2, 2)), requires_grad=True)
        (vjp,) = lib.autograd.grad(y, x, grad_outputs=u, create_graph=True)
        v = lib.tensor(np.array([[1.0, 2.0], [-1.0, 0.5]]))
        (jvp,) = lib.autograd.grad(vjp, u, grad_outputs=v)
        outs.append(jvp)
    close(*outs)


def test_broadcast_reduction_and_dtype_cast_are_recorded_too():
    x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=minigrad.float64, requires_grad=True)
    b = minigrad.tensor([0.5, -1.0], dtype=minigrad.float32, requires_grad=True)
    y = (x * b.double() * b.double()).sum()  # b broadcast over rows, and cast to float64
    (gb,) = minigrad.autograd.grad(y, b, create_graph=True)
    assert gb.dtype == np.float32 and gb.shape == (2,)
    np.testing.assert_allclose(gb.detach().numpy(), 2 * np.array([0.5, -1.0]) * np.array([4.0, 6.0]))
    (ggb,) = minigrad.autograd.grad(gb.sum(), b)
    np.testing.assert_allclose(ggb.numpy(), [8.0, 12.0])


def test_hooks_see_recorded_gradients_under_create_graph():
    x = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(g.requires_grad))
    (g,) = minigrad.autograd.grad((y * x).sum(), x, create_graph=True)
    assert seen == [True]
    np.testing.assert_allclose(minigrad.autograd.grad(g.sum(), x)[0].numpy(), [6.0, 12.0])


# -- retain_graph defaults to create_graph ------------------------------------------------
def test_retain_graph_defaults_to_create_graph():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    minigrad.autograd.grad(y, x, create_graph=True)
    minigrad.autograd.grad(y, x)  # the graph was kept
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        minigrad.autograd.grad(y, x)


def test_differentiating_twice_through_a_freed_graph_raises_as_pytorch():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (g,) = minigrad.autograd.grad((x.exp()).sum(), x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        minigrad.autograd.grad(g.sum(), x)


# -- what cannot be differentiated twice --------------------------------------------------
def test_sparse_gradients_under_create_graph_raise_a_clear_error():
    emb = minigrad.nn.Embedding(5, 3, sparse=True)
    loss = (emb(minigrad.tensor([1, 2])) ** 2).sum()
    with pytest.raises(RuntimeError, match="create_graph=True is not supported with sparse gradients"):
        minigrad.autograd.grad(loss, emb.weight, create_graph=True)


# -- the signatures and errors of PyTorch -------------------------------------------------
@pytest.mark.parametrize("lib", [minigrad, torch])
def test_grad_and_backward_refuse_empty_inputs(lib):
    x = lib.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"`inputs` argument to `grad\(\)` cannot be empty"):
        lib.autograd.grad((x * 2).sum(), [])
    with pytest.raises(RuntimeError, match=r"`inputs` argument to `backward\(\)` cannot be empty"):
        (x * 2).sum().backward(inputs=[])


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_materialize_grads_gives_zeros_for_unused_inputs(lib):
    x, z = lib.ones(3, requires_grad=True), lib.ones(2, requires_grad=True)
    gx, gz = lib.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0, 0.0] and gx.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed"):
        lib.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True, allow_unused=False)


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_grad_outputs_must_match_outputs_in_number_and_shape(lib):
    x = lib.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        lib.autograd.grad([(x * 2).sum(), (x * 3).sum()], [x], grad_outputs=[None])
    with pytest.raises(RuntimeError, match="Mismatch in shape: grad_output"):
        lib.autograd.grad((x * 2).sum(), [x], grad_outputs=[lib.ones(2)])


def test_backward_into_a_non_leaf_input_accumulates_its_grad_as_pytorch():
    m, t = both([1.0, 2.0])
    for x in (m, t):
        b = x * 3
        (b * b).sum().backward(inputs=[b])
        assert x.grad is None
        if x is m:
            mb = b
        else:
            tb = b
    close(mb.grad, tb.grad)


# -- NumPy on tensors --------------------------------------------------------------------
def test_operators_between_arrays_and_tensors_give_tensors_in_the_graph():
    x = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    a = np.array([3.0, 4.0])
    for y in (a + x, a - x, a * x, a / x, a**x, a @ x, np.float64(2.0) * x):
        assert isinstance(y, minigrad.Tensor) and y.requires_grad
    y = (a * x + a / x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), a - a / x.detach().numpy() ** 2)


def test_a_numpy_function_without_a_minigrad_counterpart_raises_naming_it():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce is not supported on minigrad Tensors"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match=r"numpy\.unwrap is not supported on minigrad Tensors"):
        np.unwrap(x)
    assert type(np.asarray(x)) is np.ndarray  # the deliberate way to take the values as a constant
