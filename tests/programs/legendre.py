"""Fit sin(x) with y = a + b·P₃(c + d·x), P₃ a custom ``torch.autograd.Function``.

The shape of the "defining new autograd Functions" lesson of "Learning PyTorch
with Examples": P₃(x) = ½(5x³ − 3x) written as a Function with its own forward
and backward (P₃'(x) = 1.5(5x² − 1)), ``ctx.save_for_backward``, ``.apply``,
four scalar weights made with ``torch.full`` and updated by hand under
``no_grad``. A second Function, with two outputs and ``mark_non_differentiable``,
adds an unweighted penalty on the fit's largest error.
"""
import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class MaxAbs(torch.autograd.Function):
    """(max |x|, its position): the position is an output that has no gradient."""

    @staticmethod
    def forward(ctx, input):
        position = input.abs().argmax()
        ctx.save_for_backward(input, position)
        ctx.mark_non_differentiable(position)
        return input.abs().max(), position

    @staticmethod
    def backward(ctx, grad_value, grad_position):
        input, position = ctx.saved_tensors
        grad = torch.zeros_like(input)
        grad[position] = grad_value if input[position] >= 0 else -grad_value
        return grad


def main(steps=40, init=None):
    dtype = torch.float32
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    start = {"a": 0.0, "b": -1.0, "c": 0.0, "d": 0.3}
    if init is not None:
        start = {k: float(v) for k, v in init.items()}
    a, b, c, d = (torch.full((), start[k], dtype=dtype, requires_grad=True) for k in "abcd")
    initial = dict(start)

    learning_rate = 5e-6
    losses = []
    for t in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        worst, where = MaxAbs.apply(y_pred - y)
        total = loss + worst
        losses.append(total.item())
        if t % 10 == 9:
            print(t, f"{loss.item():.4f}", f"worst {worst.item():.4f} at {where.item()}")
        total.backward()
        with torch.no_grad():
            for w in (a, b, c, d):
                w -= learning_rate * w.grad
                w.grad = None

    print(f"Result: y = {a.item():.4f} + {b.item():.4f} * P3({c.item():.4f} + {d.item():.4f} x)")
    return losses, initial


if __name__ == "__main__":
    main()
