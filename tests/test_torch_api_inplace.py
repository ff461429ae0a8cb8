"""The in-place forms of PyTorch's Tensor methods (``x.floor_()``, ``x.masked_fill_(m, v)``, ...) against torch:
values, the gradient through an in-place op on a non-leaf, the version counter and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad
from minigrad.tensor import _INPLACE_FORMS

RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 2.0, (3, 4)) * np.array([1.0, -1.0, 1.0, 1.0])  # one negative column
POSITIVE = {"log", "log10", "log1p", "log2", "sqrt", "rsqrt", "pow"}
MASK = X > 1.0
A, B = RNG.standard_normal((3, 2)), RNG.standard_normal((2, 4))

# name -> f(lib, dtype) giving the arguments after self
ARGS = {
    "addmm": lambda lib, dt: (lib.tensor(A, dtype=dt), lib.tensor(B, dtype=dt)),
    "clamp_max": lambda lib, dt: (0.5,),
    "clamp_min": lambda lib, dt: (-0.5,),
    "clip": lambda lib, dt: (-0.5, 0.5),
    "cumprod": lambda lib, dt: (1,),
    "cumsum": lambda lib, dt: (0,),
    "floor_divide": lambda lib, dt: (0.7,),
    "fmod": lambda lib, dt: (0.7,),
    "remainder": lambda lib, dt: (0.7,),
    "pow": lambda lib, dt: (1.5,),
    "masked_fill": lambda lib, dt: (lib.tensor(MASK), -1.0),
    "tril": lambda lib, dt: (),
    "triu": lambda lib, dt: (1,),
    **{c: (lambda lib, dt: (1.0,)) for c in ("eq", "ne", "lt", "le", "gt", "ge")},
}
KWARGS = {"round": {"decimals": 1}, "nan_to_num": {"nan": 0.0}}
# No derivative in PyTorch either (backward through them is an error in both).
NOT_DIFFERENTIABLE = {"floor_divide"}


def _x(name, lib, requires_grad=False):
    values = np.abs(X) if name in POSITIVE else X
    return lib.tensor(values, dtype=lib.float64, requires_grad=requires_grad)


def _call(lib, name, x):
    args = ARGS.get(name, lambda lib, dt: ())(lib, lib.float64)
    return getattr(x, f"{name}_")(*args, **KWARGS.get(name, {}))


def test_the_in_place_forms_are_every_pytorch_one_whose_out_of_place_form_minigrad_has():
    ours = set(dir(minigrad.Tensor))
    wanted = {n[:-1] for n in dir(torch.Tensor) if n.endswith("_") and not n.startswith("_") and n[:-1] in ours}
    existing = {"add", "sub", "mul", "div", "clamp", "index_add", "scatter", "scatter_add", "requires_grad", "detach"}
    # Shape changes in place (x.t_()) are left out, as the From PyTorch page says.
    shape_changing = {"squeeze", "unsqueeze", "t", "transpose"}
    assert wanted - existing - shape_changing == set(_INPLACE_FORMS)
    assert set(ARGS) <= set(_INPLACE_FORMS)


@pytest.mark.parametrize("name", _INPLACE_FORMS)
def test_an_in_place_form_writes_the_out_of_place_value_into_the_tensor(name):
    ours, theirs = _x(name, minigrad), _x(name, torch)
    returned = _call(minigrad, name, ours)
    _call(torch, name, theirs)
    assert returned is ours and ours._version == 1
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    assert ours.dtype == minigrad.float64


@pytest.mark.parametrize("name", sorted(set(_INPLACE_FORMS) - NOT_DIFFERENTIABLE))
def test_the_gradient_flows_through_an_in_place_form_on_a_non_leaf_as_in_pytorch(name):
    cot = RNG.standard_normal((3, 4))
    grads, names = [], []
    for lib in (minigrad, torch):
        w = _x(name, lib, requires_grad=True)
        y = w * 1.0
        _call(lib, name, y)
        (y * lib.tensor(cot)).sum().backward()
        grads.append(w.grad.numpy())
        names.append(y.grad_fn.name())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    assert names[0] == names[1]


@pytest.mark.parametrize("name", ["floor", "exp", "masked_fill", "eq", "cumsum"])
def test_an_in_place_form_on_a_leaf_that_requires_grad_is_pytorchs_error(name):
    messages = []
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError) as err:
            _call(lib, name, _x(name, lib, requires_grad=True))
        messages.append(str(err.value))
        with lib.no_grad():  # allowed there
            _call(lib, name, _x(name, lib, requires_grad=True))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("name", ["sqrt", "exp", "sigmoid", "reciprocal"])
def test_a_floating_result_in_an_integer_tensor_is_pytorchs_error(name):
    messages = []
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError) as err:
            getattr(lib.arange(4), f"{name}_")()
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_a_saved_tensor_changed_by_an_in_place_form_fails_backward_as_in_pytorch():
    for lib in (minigrad, torch):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        y = w * 2
        z = y.exp()  # saves its output... and exp's input is y: changing z in place must be caught
        z.floor_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


def test_numpy_spellings_reach_the_in_place_forms_that_take_a_dim():
    for lib in (minigrad, torch):
        x = _x("cumsum", lib)
        x.cumsum_(axis=1)
        np.testing.assert_allclose(x.numpy(), np.cumsum(X, axis=1))
