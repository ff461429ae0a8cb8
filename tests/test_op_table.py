"""Generic tests driven by the op tables (``tests/op_table_*.py``, each exporting ``OPS``).

For every entry:

1. its gradients match central finite differences (``minigrad.testing.gradcheck``, float64);
2. its forward and every input gradient equal PyTorch's on the same float64
   inputs, with a random cotangent;
3. its float32 forward is close to PyTorch's float32 forward, with the same dtype;
4. its error inputs raise the documented error.

And one test fails when a differentiable ``Primitive`` subclass in ``minigrad.ops``
or ``minigrad.nn`` has no entry, so a new op is tested as soon as it exists.
"""
from __future__ import annotations

import importlib
import inspect
import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.autograd import Primitive
from minigrad.testing import gradcheck, gradgradcheck

sys.path.insert(0, str(pathlib.Path(__file__).parent))

# Every op_table_*.py beside this file, found by glob so that a new table is picked up.
TABLE_MODULES = sorted(p.stem for p in pathlib.Path(__file__).parent.glob("op_table_*.py"))
OPS = [op for name in TABLE_MODULES for op in importlib.import_module(name).OPS]
IDS = [op.name for op in OPS]


def _to_minigrad(args, sample, dtype=None):
    out = []
    for k, a in enumerate(args):
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f" and dtype is not None:
                a = a.astype(dtype)
            wants = a.dtype.kind == "f" and (sample.grad_args is None or k in sample.grad_args)
            # _make keeps the array as it is: non-contiguous layouts reach the op.
            out.append(minigrad.Tensor._make(a, wants, None))
        else:
            out.append(a)
    return out


def _to_torch(args, sample, dtype=None):
    out = []
    for k, a in enumerate(args):
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f" and dtype is not None:
                a = a.astype(dtype)
            t = torch.tensor(np.array(a, order="C"))  # (ascontiguousarray would make 0-d 1-d)
            if a.dtype.kind == "f" and (sample.grad_args is None or k in sample.grad_args):
                t.requires_grad_(True)
            out.append(t)
        else:
            out.append(a)
    return out


def _torch_dtype_name(t) -> str:
    return str(t.dtype).replace("torch.", "")


@pytest.mark.parametrize("op", [op for op in OPS if op.gradcheck], ids=[op.name for op in OPS if op.gradcheck])
@settings(max_examples=25)
@given(data=st.data())
def test_gradient_matches_finite_differences(op, data):
    sample = data.draw(op.samples(), label="sample")
    args = _to_minigrad(sample.args, sample)
    if not any(isinstance(a, minigrad.Tensor) and a.requires_grad for a in args):
        return  # e.g. an embedding table with no rows looked up: nothing to differentiate
    assert gradcheck(lambda *xs: op.op(*xs, **sample.kwargs), args)


@pytest.mark.parametrize("op", OPS, ids=IDS)
@settings(max_examples=40)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_forward_and_gradients_match_pytorch(op, data, seed):
    sample = data.draw(op.samples(), label="sample")
    mg_args = _to_minigrad(sample.args, sample)
    th_args = _to_torch(sample.args, sample)

    out = op.op(*mg_args, **sample.kwargs)
    ref = op.ref(*th_args, **sample.kwargs)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)

    mg_inputs = [a for a in mg_args if isinstance(a, minigrad.Tensor) and a.requires_grad]
    th_inputs = [a for a in th_args if isinstance(a, torch.Tensor) and a.requires_grad]
    if not mg_inputs:
        return
    assert out.requires_grad == ref.requires_grad
    u = np.random.default_rng(seed).standard_normal(out.shape)
    grads = minigrad.autograd.grad(out, mg_inputs, grad_outputs=minigrad.tensor(u), allow_unused=True)
    ref_grads = torch.autograd.grad(ref, th_inputs, grad_outputs=torch.tensor(u), allow_unused=True)
    for k, (g, r) in enumerate(zip(grads, ref_grads)):
        expected = np.zeros(mg_inputs[k].shape) if r is None else r.numpy()
        actual = np.zeros(mg_inputs[k].shape) if g is None else g.detach().numpy()
        assert actual.shape == expected.shape, f"gradient {k}"
        np.testing.assert_allclose(actual, expected, rtol=op.grad_rtol, atol=1e-12, err_msg=f"gradient of input {k}")


@pytest.mark.parametrize("op", OPS, ids=IDS)
@settings(max_examples=15)
@given(data=st.data())
def test_float32_forward_matches_pytorch(op, data):
    sample = data.draw(op.samples(), label="sample")
    out = op.op(*_to_minigrad(sample.args, sample, np.float32), **sample.kwargs)
    ref = op.ref(*_to_torch(sample.args, sample, np.float32), **sample.kwargs)
    assert out.dtype.name == _torch_dtype_name(ref)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=op.float32_rtol, atol=op.float32_atol)


SECOND_ORDER = [op for op in OPS if not op.first_order_only]


@pytest.mark.parametrize("op", [op for op in SECOND_ORDER if op.gradcheck],
                         ids=[op.name for op in SECOND_ORDER if op.gradcheck])
@settings(max_examples=6)
@given(data=st.data())
def test_second_order_gradient_matches_finite_differences(op, data):
    sample = data.draw(op.samples(), label="sample")
    args = _to_minigrad(sample.args, sample)
    if not any(isinstance(a, minigrad.Tensor) and a.requires_grad for a in args):
        return
    assert gradgradcheck(lambda *xs: op.op(*xs, **sample.kwargs), args)


def _second_order(lib, out, inputs, u, v):
    """The gradient of ⟨v, ∂⟨u, out⟩/∂inputs⟩ with respect to each input (None: zero)."""
    if lib is torch:
        grads = torch.autograd.grad(out, inputs, grad_outputs=torch.tensor(u), create_graph=True, allow_unused=True)
    else:
        grads = minigrad.autograd.grad(out, inputs, grad_outputs=minigrad.tensor(u), create_graph=True,
                                       allow_unused=True)
    pairs = [(g, w) for g, w in zip(grads, v) if g is not None and g.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    return lib.autograd.grad([g for g, _ in pairs], inputs, grad_outputs=[lib.tensor(w) for _, w in pairs],
                             allow_unused=True)


TORCH_SECOND_ORDER = [op for op in SECOND_ORDER if not op.no_torch_second_order]


@pytest.mark.parametrize("op", TORCH_SECOND_ORDER, ids=[op.name for op in TORCH_SECOND_ORDER])
@settings(max_examples=8)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_second_order_gradients_match_pytorch(op, data, seed):
    sample = data.draw(op.samples(), label="sample")
    mg_args = _to_minigrad(sample.args, sample)
    th_args = _to_torch(sample.args, sample)
    mg_inputs = [a for a in mg_args if isinstance(a, minigrad.Tensor) and a.requires_grad]
    th_inputs = [a for a in th_args if isinstance(a, torch.Tensor) and a.requires_grad]
    if not mg_inputs:
        return
    out = op.op(*mg_args, **sample.kwargs)
    ref = op.ref(*th_args, **sample.kwargs)
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(out.shape)
    v = [rng.standard_normal(x.shape) for x in mg_inputs]
    got = _second_order(minigrad, out, mg_inputs, u, v)
    expected = _second_order(torch, ref, th_inputs, u, v)
    for k, (g, r) in enumerate(zip(got, expected)):
        want = np.zeros(mg_inputs[k].shape) if r is None else r.detach().numpy(force=True)  # (force: ZeroTensor)
        actual = np.zeros(mg_inputs[k].shape) if g is None else g.detach().numpy()
        assert actual.shape == want.shape, f"second-order gradient {k}"
        np.testing.assert_allclose(actual, want, rtol=1e-8, atol=1e-10, err_msg=f"second-order gradient of input {k}")


def test_entries_without_a_second_order_check_say_why():
    for op in OPS:
        for reason in (op.first_order_only, op.no_torch_second_order):
            if reason:
                assert len(reason.split()) >= 3, f"{op.name}: give the reason"


ERROR_CASES = [(op, e) for op in OPS for e in op.error_samples()]


@pytest.mark.parametrize("op,err", ERROR_CASES, ids=[f"{op.name}-{i}" for i, (op, _) in enumerate(ERROR_CASES)])
def test_error_inputs_raise(op, err):
    args = [minigrad.Tensor._make(a, False, None) if isinstance(a, np.ndarray) else a for a in err.args]
    with pytest.raises(err.error, match=err.match or None):
        op.op(*args, **err.kwargs)


def _differentiable_functions():
    try:
        importlib.import_module("minigrad.nn.functional")
    except ModuleNotFoundError as e:
        if e.name != "minigrad.nn.functional":
            raise
    import minigrad.ops  # noqa: F401  (registers every core Primitive)

    found, stack = set(), list(Primitive.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        module = cls.__module__
        if module.startswith(("minigrad.ops", "minigrad.nn")) and not cls.__name__.startswith("_") and not inspect.isabstract(cls):
            found.add(cls)
    return found


def test_every_differentiable_function_has_an_op_table_entry():
    covered = {f for op in OPS for f in op.functions}
    missing = sorted(f"{c.__module__}.{c.__qualname__}" for c in _differentiable_functions() - covered)
    assert not missing, f"Primitive subclasses without an OpInfo entry in tests/op_table_*.py: {missing}"


def test_every_core_function_has_an_entry_in_the_core_table():
    import op_table_core

    covered = {f for op in op_table_core.OPS for f in op.functions}
    # The fused layers, losses, attention and embedding bags, the recurrent layers' time loop and the
    # smooth activations have tables of their own (op_table_nn, op_table_seq, op_table_nn_functional).
    own_tables = ("minigrad.ops.layers", "minigrad.ops.losses", "minigrad.ops.embedding", "minigrad.ops.recurrent",
                  "minigrad.ops.activations", "minigrad.ops.attention")
    core = {c for c in _differentiable_functions() if c.__module__ not in own_tables}
    assert not sorted(c.__qualname__ for c in core - covered)


def test_the_core_table_is_collected():
    names = {op.name for op in OPS}
    assert {"add", "matmul", "getitem", "embedding", "softmax"} <= names
