"""An input changed in place between forward and backward is never read silently.

For every op-table entry and every tensor input (floating or integer, given
positionally or by keyword): run forward, keep the gradients, change that input
in place, and backpropagate again through the same graph. The op either
raises PyTorch's in-place error or gives exactly the gradients it gave before -
so an op that reads an input in backward without the version check fails here,
whether it kept the input with ``save_for_backward`` or as a ``ctx`` attribute.
"""
from __future__ import annotations

import importlib
import pathlib
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad

sys.path.insert(0, str(pathlib.Path(__file__).parent))

TABLE_MODULES = sorted(p.stem for p in pathlib.Path(__file__).parent.glob("op_table_*.py"))
OPS = [op for name in TABLE_MODULES for op in importlib.import_module(name).OPS]


def _tensors(sample):
    """The sample's arrays as fresh tensors: (args, kwargs, every tensor with its label)."""
    made = []

    def make(a, k):
        if not isinstance(a, np.ndarray):
            return a
        wants = a.dtype.kind == "f" and (sample.grad_args is None or k in sample.grad_args)
        t = minigrad.Tensor._make(a.copy(), wants, None)
        made.append((f"argument {k}", t))
        return t

    args = [make(a, k) for k, a in enumerate(sample.args)]
    kwargs = {}
    for name, v in sample.kwargs.items():
        kwargs[name] = make(v, name)
    return args, kwargs, made


def _changed(t):
    """New values for ``t``: its own values rolled (an index stays in range), floats also shifted."""
    new = np.roll(t.detach().numpy(), 1)
    if new.dtype.kind == "f":
        new = new + 0.5
    return new


def _gradients(out, inputs, u):
    grads = minigrad.autograd.grad(out, inputs, grad_outputs=u, retain_graph=True, allow_unused=True)
    return [None if g is None else np.array(g.detach().numpy()) for g in grads]


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
@settings(max_examples=5)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_an_input_changed_in_place_after_forward_raises_or_leaves_the_gradients_unchanged(op, data, seed):
    sample = data.draw(op.samples(), label="sample")
    for position in range(len(_tensors(sample)[2])):
        args, kwargs, made = _tensors(sample)
        label, victim = made[position]
        out = op.op(*args, **kwargs)
        inputs = [t for _, t in made if t.requires_grad]
        if not inputs or not out.requires_grad:
            return
        u = minigrad.tensor(np.random.default_rng(seed).standard_normal(out.shape))
        before = _gradients(out, inputs, u)
        with minigrad.no_grad():
            victim.copy_(minigrad.tensor(_changed(victim)))
        try:
            after = _gradients(out, inputs, u)
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e), str(e)
            continue
        for k, (b, a) in enumerate(zip(before, after)):
            np.testing.assert_array_equal(a, b, err_msg=f"{op.name}: gradient {k} changed after {label} was changed in place")


def _memory_pairs():
    """Pairs of arrays that do and do not share memory, built the ways ops build them."""
    owner, other = np.arange(24.0).reshape(4, 6), np.arange(24.0)
    view = owner[1:3]
    strided = np.lib.stride_tricks.as_strided(owner, (3, 3), owner.strides)
    wrapped = np.frombuffer(owner.data, dtype=owner.dtype)  # base: a memoryview, not an array
    raw = bytearray(48)
    on_bytes_a, on_bytes_b = np.frombuffer(raw, np.float64), np.frombuffer(raw, np.float64)[2:]
    return [
        (owner, owner), (owner, view), (view, owner[2:]), (view, owner[3:]), (owner.reshape(-1), view),
        (owner.T, view), (strided, owner), (strided, other), (wrapped, owner), (wrapped, other),
        (on_bytes_a, on_bytes_b), (owner, other), (view, other.reshape(4, 6)[1:]), (owner.copy(), owner),
    ]


@pytest.mark.parametrize("pair", range(len(_memory_pairs())))
def test_the_kept_array_check_never_misses_shared_memory(pair):
    # The version check of arrays an op keeps answers "may share" from the arrays' owners
    # without NumPy's bounds arithmetic where it can; it may say yes too often, never no wrongly.
    from minigrad.autograd.function import _may_share
    a, b = _memory_pairs()[pair]
    assert _may_share(a, b) == _may_share(b, a) == np.may_share_memory(a, b)


def test_a_kept_view_is_watched_with_the_tensor_it_overlaps_not_a_neighbour_on_the_same_array():
    # Logits and targets over disjoint parts of one NumPy buffer: two tensors with version
    # counters of their own. The loss keeps the targets; refilling them must be caught even
    # though the logits, first in the call, view the same buffer.
    raw = np.zeros(8, np.int64)
    raw[6:] = [0, 2]
    logits = minigrad.from_numpy(raw[:6].view(np.float64).reshape(2, 3)).requires_grad_()
    target = minigrad.from_numpy(raw[6:])
    loss = minigrad.nn.functional.cross_entropy(logits, target)
    with minigrad.no_grad():
        target.copy_(minigrad.tensor([1, 1]))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
