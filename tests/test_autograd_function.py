"""``minigrad.autograd.Function``: PyTorch's custom autograd Function, as users write it.

The custom-Function programs of PyTorch's tutorials run from the same source in
both libraries (only the import differs), and give the same numbers; the rest
pins the ctx API (needs_input_grad, mark_non_differentiable,
set_materialize_grads, mark_dirty, setup_context, once_differentiable) and
double backward through a user's backward.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import minigrad

# "Learning PyTorch with Examples", PyTorch: Defining new autograd functions
# (polynomial_custom_function.py), verbatim apart from the comments.
LEGENDRE_PROGRAM = '''
import torch
import math


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


dtype = torch.float
device = torch.device("cpu")

x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)

learning_rate = 5e-6
for t in range(2000):
    P3 = LegendrePolynomial3.apply

    y_pred = a + b * P3(c + d * x)

    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())

    loss.backward()

    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad

        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
'''

# The MyReLU Function of the older "Learning PyTorch with Examples" (two_layer_net_custom_function.py).
MYRELU = '''
import torch


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input
'''


def run(source: str, lib: str, capsys=None) -> dict:
    """Run ``source`` with ``import torch`` (lib='torch') or ``import minigrad as torch``."""
    if lib == "minigrad":
        source = re.sub(r"^import torch$", "import minigrad as torch", source, flags=re.MULTILINE)
    namespace = {"__name__": f"tutorial_{lib}"}
    exec(compile(source, f"<tutorial on {lib}>", "exec"), namespace)
    return namespace


def printed_numbers(text: str) -> list:
    return [float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]


def test_legendre_polynomial_tutorial_runs_unchanged_and_gives_pytorchs_losses(capsys):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run(LEGENDRE_PROGRAM, "torch")
        want = capsys.readouterr().out
        run(LEGENDRE_PROGRAM, "minigrad")
        got = capsys.readouterr().out
    finally:
        torch.set_num_threads(threads)
    want_numbers, got_numbers = printed_numbers(want), printed_numbers(got)
    assert len(got_numbers) == len(want_numbers) == 20 + 4
    np.testing.assert_allclose(got_numbers[:20], want_numbers[:20], rtol=1e-4)  # the losses
    np.testing.assert_allclose(got_numbers[20:], want_numbers[20:], rtol=1e-4, atol=1e-6)  # a, b, c, d
    assert got_numbers[19] < got_numbers[0] / 2  # it fitted


def test_myrelu_tutorial_trains_a_two_layer_net_as_pytorch():
    rng = np.random.default_rng(0)
    n, d_in, h, d_out = 64, 100, 30, 10
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((n, d_in), (n, d_out), (d_in, h), (h, d_out))]
    losses = {}
    for lib in ("torch", "minigrad"):
        ns = run(MYRELU, lib)
        tl = ns["torch"]
        x, y = tl.tensor(arrays[0]), tl.tensor(arrays[1])
        w1, w2 = tl.tensor(arrays[2], requires_grad=True), tl.tensor(arrays[3], requires_grad=True)
        losses[lib] = []
        for _ in range(50):  # the tutorial's loop, shorter
            relu = ns["MyReLU"].apply
            y_pred = relu(x.mm(w1)).mm(w2)
            loss = (y_pred - y).pow(2).sum()
            losses[lib].append(loss.item())
            loss.backward()
            with tl.no_grad():
                w1 -= 1e-6 * w1.grad
                w2 -= 1e-6 * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
    np.testing.assert_allclose(losses["minigrad"], losses["torch"], rtol=1e-5)
    assert losses["minigrad"][-1] < losses["minigrad"][0]


# -- the ctx API ------------------------------------------------------------------------------
def both_libs():
    return [minigrad, torch]


@pytest.mark.parametrize("lib", both_libs())
def test_needs_input_grad_says_which_inputs_want_a_gradient(lib):
    seen = []

    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, s, k):
            return x * s * k

        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g * 2, None, None

    x = lib.ones(2, requires_grad=True)
    Scale.apply(x, lib.ones(2), 3.0).sum().backward()
    assert tuple(seen[0]) == (True, False, False)
    assert x.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("lib", both_libs())
def test_a_non_differentiable_output_and_an_unused_one_get_zeros_by_default(lib):
    seen = []

    class SortWithIndex(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort() if lib is torch else (x, lib.tensor(np.arange(3)))
            ctx.mark_non_differentiable(idx)
            return values * 1, idx

        @staticmethod
        def backward(ctx, g_values, g_idx):
            seen.append(g_idx.tolist())
            return g_values * 10

    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    values, idx = SortWithIndex.apply(x)
    assert values.requires_grad and not idx.requires_grad
    values.sum().backward()
    assert seen == [[0, 0, 0]] and x.grad.tolist() == [10.0, 10.0, 10.0]


@pytest.mark.parametrize("lib", both_libs())
def test_set_materialize_grads_false_gives_none_for_unused_outputs(lib):
    seen = []

    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(x)
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            (x,) = ctx.saved_tensors
            grad = lib.zeros_like(x)
            if g1 is not None:
                grad = grad + g1
            if g2 is not None:
                grad = grad + x * 2 * g2
            return grad

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    a, b = Two.apply(x)
    (b * 3).sum().backward()
    assert seen == [(True, False)]
    assert x.grad.tolist() == [6.0, 12.0]


@pytest.mark.parametrize("lib", both_libs())
def test_setup_context_style_forward_without_ctx(lib):
    class MulAdd(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y + x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * (y + 1), g * x

    x = lib.tensor([2.0], requires_grad=True)
    y = lib.tensor([5.0], requires_grad=True)
    MulAdd.apply(x, y).sum().backward()
    assert (x.grad.item(), y.grad.item()) == (6.0, 2.0)


@pytest.mark.parametrize("lib", both_libs())
def test_mark_dirty_makes_the_modified_input_the_output(lib):
    class AddOneInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    leaf = lib.tensor([1.0, 2.0], requires_grad=True)
    h = leaf * 2
    out = AddOneInPlace.apply(h)
    assert out is h and h.tolist() == [3.0, 5.0]
    (out * out).sum().backward()
    assert leaf.grad.tolist() == [12.0, 20.0]


@pytest.mark.parametrize("lib", both_libs())
def test_a_saved_input_changed_in_place_makes_backward_raise(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    h = lib.tensor([1.0, 2.0], requires_grad=True) * 1
    y = Square.apply(h)
    with lib.no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# -- higher order -------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", both_libs())
def test_a_users_backward_is_recorded_under_create_graph(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x ** 3
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * 3 * y / x

    x = lib.tensor([2.0, -1.5], dtype=lib.float64, requires_grad=True)
    (g,) = lib.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), [12.0, 6.75])
    np.testing.assert_allclose(gg.numpy(), [12.0, -9.0])


@pytest.mark.parametrize("lib", both_libs())
def test_once_differentiable_refuses_a_second_derivative(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = lib.tensor([2.0], requires_grad=True)
    y = Cube.apply(x)
    (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)  # y's gradient, 2y, is recorded
    assert g.item() == 2 * 8.0 * 12.0
    # Both refuse; PyTorch's engine reports it as an unused input, minigrad names the cause.
    message = "once_differentiable" if lib is minigrad else "appears to not have been used"
    with pytest.raises(RuntimeError, match=message):
        lib.autograd.grad(g.sum(), x)
