"""``grad_fn`` reads as in PyTorch: the node's type name, ``name()`` and the reprs of the node and the tensor.

Each case runs the same expression with minigrad and with torch (``lib`` is the module) on
the same values and compares the name of the output's node. Where minigrad's graph differs
so that the name cannot be PyTorch's, the case is in ``DIFFERENT`` and in docs/from_pytorch.rst.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import minigrad

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)).astype(np.float32)
W = RNG.standard_normal((4, 5)).astype(np.float32)
X3 = RNG.standard_normal((2, 3, 4)).astype(np.float32)


def _nn(lib):
    return lib.nn, lib.nn.functional


# name -> f(lib, x (3, 4), w (4, 5), x3 (2, 3, 4)), all three requiring grad
CASES = {
    "x * y": lambda lib, x, w, x3: x * x,
    "x * 2": lambda lib, x, w, x3: x * 2,
    "x + 2": lambda lib, x, w, x3: x + 2,
    "x - y": lambda lib, x, w, x3: x - x,
    "2 - x": lambda lib, x, w, x3: 2 - x,
    "x / 2": lambda lib, x, w, x3: x / 2,
    "x ** 2": lambda lib, x, w, x3: x ** 2,
    "x ** y": lambda lib, x, w, x3: x.abs() ** x,
    "2 ** x": lambda lib, x, w, x3: 2 ** x,
    "-x": lambda lib, x, w, x3: -x,
    "x @ w": lambda lib, x, w, x3: x @ w,
    "mm": lambda lib, x, w, x3: lib.mm(x, w),
    "matrix @ vector": lambda lib, x, w, x3: x @ w[:, 0],
    "vector @ vector": lambda lib, x, w, x3: x[0] @ x[1],
    "vector @ matrix": lambda lib, x, w, x3: x[0] @ w,
    "batched @ matrix": lambda lib, x, w, x3: x3 @ w,
    "bmm": lambda lib, x, w, x3: lib.bmm(x3, x3.transpose(1, 2)),
    "addmm": lambda lib, x, w, x3: lib.addmm(w[0], x, w),
    "sum": lambda lib, x, w, x3: x.sum(),
    "sum(dim)": lambda lib, x, w, x3: x.sum(0),
    "mean": lambda lib, x, w, x3: x.mean(),
    "mean(dim)": lambda lib, x, w, x3: x.mean(1, keepdim=True),
    "max": lambda lib, x, w, x3: x.max(),
    "max(dim)": lambda lib, x, w, x3: x.max(0)[0],
    "min": lambda lib, x, w, x3: x.min(),
    "min(dim)": lambda lib, x, w, x3: x.min(1).values,
    "amax": lambda lib, x, w, x3: x.amax(0),
    "std": lambda lib, x, w, x3: x.std(0),
    "var": lambda lib, x, w, x3: x.var(),
    "logsumexp": lambda lib, x, w, x3: x.logsumexp(1),
    **{f: (lambda f: lambda lib, x, w, x3: getattr(x, f)())(f) for f in (
        "exp", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "tan", "erf", "log1p", "expm1", "exp2", "square",
        "reciprocal", "floor", "ceil", "round", "trunc", "frac", "sign", "clone")},
    **{f: (lambda f: lambda lib, x, w, x3: getattr(x.abs() + 1, f)())(f) for f in (
        "log", "log2", "log10", "sqrt", "rsqrt")},
    "round(decimals)": lambda lib, x, w, x3: x.round(decimals=1),
    "clamp": lambda lib, x, w, x3: x.clamp(-1, 1),
    "clamp(min)": lambda lib, x, w, x3: x.clamp(min=0),
    "clamp(tensors)": lambda lib, x, w, x3: x.clamp(x - 1, x + 1),
    "clamp_min": lambda lib, x, w, x3: x.clamp_min(0),
    "clamp_max": lambda lib, x, w, x3: x.clamp_max(0),
    "maximum": lambda lib, x, w, x3: lib.maximum(x, x * 2),
    "where": lambda lib, x, w, x3: lib.where(x > 0, x, x * 2),
    "remainder": lambda lib, x, w, x3: x % 2,
    "nan_to_num": lambda lib, x, w, x3: x.nan_to_num(),
    "view": lambda lib, x, w, x3: x.view(12),
    "reshape": lambda lib, x, w, x3: x.reshape(2, 6),
    "reshape (a copy)": lambda lib, x, w, x3: x.t().reshape(12),
    "flatten": lambda lib, x, w, x3: x3.flatten(1),
    "unflatten": lambda lib, x, w, x3: x.unflatten(1, (2, 2)),
    "t": lambda lib, x, w, x3: x.t(),
    "T": lambda lib, x, w, x3: x.T,
    "transpose": lambda lib, x, w, x3: x3.transpose(0, 2),
    "permute": lambda lib, x, w, x3: x3.permute(2, 0, 1),
    "unsqueeze": lambda lib, x, w, x3: x.unsqueeze(0),
    "squeeze": lambda lib, x, w, x3: x[None].squeeze(),
    "squeeze(dim)": lambda lib, x, w, x3: x[None].squeeze(0),
    "squeeze(dims)": lambda lib, x, w, x3: x[None, :, None].squeeze((0, 2)),
    "expand": lambda lib, x, w, x3: x[None].expand(2, 3, 4),
    "cat": lambda lib, x, w, x3: lib.cat([x, x]),
    "stack": lambda lib, x, w, x3: lib.stack([x, x]),
    "x[0]": lambda lib, x, w, x3: x[0],
    "x[:2]": lambda lib, x, w, x3: x[:2],
    "x[:]": lambda lib, x, w, x3: x[:],
    "x[0, :]": lambda lib, x, w, x3: x[0, :],
    "x[:, 0]": lambda lib, x, w, x3: x[:, 0],
    "x[0, 1:3]": lambda lib, x, w, x3: x[0, 1:3],
    "x[1:3, 0]": lambda lib, x, w, x3: x[1:3, 0],
    "x[None]": lambda lib, x, w, x3: x[None],
    "x[:, None]": lambda lib, x, w, x3: x[:, None],
    "x[..., 0]": lambda lib, x, w, x3: x[..., 0],
    "x[index]": lambda lib, x, w, x3: x[lib.tensor([0, 2, 2])],
    "x[mask]": lambda lib, x, w, x3: x[x > 0],
    "x[0, index]": lambda lib, x, w, x3: x[0, lib.tensor([1, 3])],
    "x3[:, -1, :]": lambda lib, x, w, x3: x3[:, -1, :],
    "narrow": lambda lib, x, w, x3: x.narrow(0, 0, 3),
    "split": lambda lib, x, w, x3: x.split(2)[1],
    "chunk": lambda lib, x, w, x3: x.chunk(2, 1)[0],
    "split (sizes)": lambda lib, x, w, x3: x.split([1, 3], 1)[1],
    "chunk (empty dim)": lambda lib, x, w, x3: x[:0].chunk(2)[1],
    "unbind": lambda lib, x, w, x3: x.unbind(1)[2],
    "iteration": lambda lib, x, w, x3: list(x3)[1],
    "flip": lambda lib, x, w, x3: x.flip(0),
    "roll": lambda lib, x, w, x3: x.roll(1, 0),
    "repeat": lambda lib, x, w, x3: x.repeat(2, 1),
    "diag": lambda lib, x, w, x3: lib.diag(x[0]),
    "tril": lambda lib, x, w, x3: x.tril(),
    "triu": lambda lib, x, w, x3: x.triu(1),
    "masked_fill": lambda lib, x, w, x3: x.masked_fill(x > 0, 0.0),
    "gather": lambda lib, x, w, x3: x.gather(1, lib.tensor([[0], [2], [1]])),
    "index_select": lambda lib, x, w, x3: x.index_select(0, lib.tensor([0, 2])),
    "scatter_add": lambda lib, x, w, x3: x.scatter_add(0, lib.tensor([[0, 1, 2, 0]]), x[:1] * 2),
    "scatter(src)": lambda lib, x, w, x3: x.scatter(1, lib.tensor([[0], [1], [2]]), x * 2),
    "scatter(value)": lambda lib, x, w, x3: x.scatter(1, lib.tensor([[0], [1], [2]]), 1.0),
    "index_add": lambda lib, x, w, x3: x.index_add(0, lib.tensor([0, 2]), x[:2] * 2),
    "cumsum": lambda lib, x, w, x3: x.cumsum(0),
    "cumprod": lambda lib, x, w, x3: x.cumprod(1),
    "sort": lambda lib, x, w, x3: x.sort(1)[0],
    "topk": lambda lib, x, w, x3: x.topk(2)[0],
    "norm": lambda lib, x, w, x3: x.norm(),
    "linalg.norm": lambda lib, x, w, x3: lib.linalg.norm(x, dim=1),
    "outer": lambda lib, x, w, x3: lib.outer(x[0], x[1]),
    "double": lambda lib, x, w, x3: x.double(),
    "softmax": lambda lib, x, w, x3: x.softmax(1),
    "log_softmax": lambda lib, x, w, x3: _nn(lib)[1].log_softmax(x, 1),
    "cross_entropy": lambda lib, x, w, x3: _nn(lib)[1].cross_entropy(x, lib.tensor([0, 2, 1])),
    "nll_loss": lambda lib, x, w, x3: _nn(lib)[1].nll_loss(x, lib.tensor([0, 2, 1])),
    "mse_loss": lambda lib, x, w, x3: _nn(lib)[1].mse_loss(x, x.detach() * 2),
    "l1_loss": lambda lib, x, w, x3: _nn(lib)[1].l1_loss(x, x.detach() * 2),
    "l1_loss(sum)": lambda lib, x, w, x3: _nn(lib)[1].l1_loss(x, x.detach() * 2, reduction="sum"),
    "l1_loss(none)": lambda lib, x, w, x3: _nn(lib)[1].l1_loss(x, x.detach() * 2, reduction="none"),
    "smooth_l1_loss": lambda lib, x, w, x3: _nn(lib)[1].smooth_l1_loss(x, x.detach() * 2),
    "huber_loss": lambda lib, x, w, x3: _nn(lib)[1].huber_loss(x, x.detach() * 2),
    "binary_cross_entropy": lambda lib, x, w, x3: _nn(lib)[1].binary_cross_entropy(x.sigmoid(), x.detach().sigmoid()),
    "bce_with_logits": lambda lib, x, w, x3: _nn(lib)[1].binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
    **{f: (lambda f: lambda lib, x, w, x3: getattr(_nn(lib)[1], f)(x))(f) for f in (
        "gelu", "silu", "elu", "leaky_relu", "softplus", "mish", "hardtanh", "logsigmoid", "normalize", "relu6",
        "selu", "celu", "hardswish", "hardsigmoid", "softsign", "tanhshrink", "softshrink", "hardshrink")},
    "threshold": lambda lib, x, w, x3: _nn(lib)[1].threshold(x, 0.1, 20.0),
    # The in-place forms: PyTorch's node of the in-place call has its own overload number.
    "selu_": lambda lib, x, w, x3: _nn(lib)[1].selu_(x * 1),
    "celu_": lambda lib, x, w, x3: _nn(lib)[1].celu_(x * 1, 2.0),
    "threshold_": lambda lib, x, w, x3: _nn(lib)[1].threshold_(x * 1, 0.1, 20.0),
    **{f: (lambda f: lambda lib, x, w, x3: getattr(_nn(lib)[1], f)(x * 1))(f) for f in (
        "relu_", "elu_", "hardtanh_", "leaky_relu_")},
    "cosine_similarity": lambda lib, x, w, x3: _nn(lib)[1].cosine_similarity(x, x * 2),
}


def _module(lib, make, *inputs):
    lib.manual_seed(0)
    return make(lib.nn)(*inputs)


# name -> f(lib, x, w, x3): outputs of nn layers
LAYERS = {
    "Embedding": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Embedding(10, 4), lib.tensor([0, 2, 1])),
    "Linear": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Linear(4, 5), x),
    "Linear (3-d input)": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Linear(4, 5), x3),
    "Linear (1-d input)": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Linear(4, 5), x[0]),
    "Linear (no bias)": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Linear(4, 5, bias=False), x),
    "Linear (no bias, 3-d)": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Linear(4, 5, bias=False), x3),
    "Linear (no bias, 1-d)": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Linear(4, 5, bias=False), x[0]),
    "LayerNorm": lambda lib, x, w, x3: _module(lib, lambda nn: nn.LayerNorm(4), x),
    "BatchNorm1d": lambda lib, x, w, x3: _module(lib, lambda nn: nn.BatchNorm1d(4), x),
    "BatchNorm1d (eval)": lambda lib, x, w, x3: _module(lib, lambda nn: nn.BatchNorm1d(4).eval(), x),
    "Tanh": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Tanh(), x),
    "ReLU": lambda lib, x, w, x3: _module(lib, lambda nn: nn.ReLU(), x),
    "Dropout": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Dropout(0.5), x),
    "Flatten": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Flatten(), x3),
    "Softmax": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Softmax(1), x),
    "CrossEntropyLoss": lambda lib, x, w, x3: _module(lib, lambda nn: nn.CrossEntropyLoss(), x, lib.tensor([0, 2, 1])),
    "MSELoss": lambda lib, x, w, x3: _module(lib, lambda nn: nn.MSELoss(), x, x.detach()),
    "EmbeddingBag": lambda lib, x, w, x3: _module(lib, lambda nn: nn.EmbeddingBag(10, 4), lib.tensor([[0, 2, 1]])),
    "Conv2d": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Conv2d(2, 3, 2), x3[None]),
    **{m: (lambda m: lambda lib, x, w, x3: _module(lib, lambda nn: getattr(nn, m)(), x))(m) for m in (
        "ReLU6", "SELU", "CELU", "Hardswish", "Hardsigmoid", "Softsign", "Tanhshrink", "Softshrink", "Hardshrink")},
    "Threshold": lambda lib, x, w, x3: _module(lib, lambda nn: nn.Threshold(0.1, 20.0), x),
}

# Where minigrad's graph differs from PyTorch's, so the name does too (docs/from_pytorch.rst lists them).
DIFFERENT = {
    "2 / x": (lambda lib, x, w, x3: 2 / x, "DivBackward0", "MulBackward0"),
    "einsum": (lambda lib, x, w, x3: lib.einsum("ij,jk->ik", x, w), "EinsumBackward0", "ViewBackward0"),
    "contiguous().view": (lambda lib, x, w, x3: x.t().contiguous().view(12), "UnsafeViewBackward0", "ViewBackward0"),
    "repeat_interleave": (lambda lib, x, w, x3: x.repeat_interleave(2, dim=0), "IndexBackward0", "ViewBackward0"),
    "pad": (lambda lib, x, w, x3: _nn(lib)[1].pad(x, (1, 1)), "CatBackward0", "ConstantPadNdBackward0"),
    "max_pool2d": (lambda lib, x, w, x3: _nn(lib)[1].max_pool2d(x3[None], 2), "PermuteBackward0",
                   "MaxPool2DWithIndicesBackward0"),
    "GRU": (lambda lib, x, w, x3: _module(lib, lambda nn: nn.GRU(4, 3), x3)[0], "RecurrenceBackward0", "StackBackward0"),
}


def _inputs(lib):
    return [lib.tensor(a, requires_grad=True) for a in (X, W, X3)]


def _names(make):
    ours, theirs = make(minigrad, *_inputs(minigrad)), make(torch, *_inputs(torch))
    return ours.grad_fn, theirs.grad_fn


@pytest.mark.parametrize("case", list(CASES) + list(LAYERS))
def test_the_output_node_has_pytorchs_name(case):
    ours, theirs = _names({**CASES, **LAYERS}[case])
    assert (type(ours).__name__, ours.name()) == (type(theirs).__name__, theirs.name())


@pytest.mark.parametrize("case", list(DIFFERENT))
def test_the_listed_differences_in_node_names_are_still_differences(case):
    make, ours_expected, theirs_expected = DIFFERENT[case]
    ours, theirs = _names(make)
    assert (ours.name(), theirs.name()) == (ours_expected, theirs_expected)


def test_a_node_and_the_tensor_print_as_in_pytorch():
    (x, _, _), (tx, _, _) = _inputs(minigrad), _inputs(torch)
    y, ty = (x * 2)[0], (tx * 2)[0]
    pattern = r"<SelectBackward0 object at 0x[0-9a-f]+>"
    assert re.fullmatch(pattern, repr(y.grad_fn)) and re.fullmatch(pattern, repr(ty.grad_fn))
    assert repr(y.sum()).split(", ")[-1] == repr(ty.sum()).split(", ")[-1] == "grad_fn=<SumBackward0>)"


def test_a_custom_function_node_is_named_after_the_class_as_in_pytorch():
    def make(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad

        return Square.apply(lib.ones(2, requires_grad=True)).grad_fn

    ours, theirs = make(minigrad), make(torch)
    assert (type(ours).__name__, ours.name()) == (type(theirs).__name__, theirs.name()) == ("SquareBackward",) * 2


def test_a_node_keeps_its_name_when_the_output_goes_into_other_ops():
    x = minigrad.tensor(X, requires_grad=True)
    y = x.t()
    z = y.reshape(-1) @ minigrad.ones(12)
    assert y.grad_fn.name() == "TBackward0" and z.grad_fn.name() == "DotBackward0"
    assert z.grad_fn.next_functions[0].name() == "UnsafeViewBackward0"
