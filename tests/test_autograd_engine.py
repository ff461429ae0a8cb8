"""The backward engine's semantics, pinned to PyTorch: each test runs the same
program in minigrad and in torch where both can, and compares."""
from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.testing import strategies as mst


def both(values, dtype=np.float64, requires_grad=True):
    """The same values as a minigrad leaf and a torch leaf."""
    arr = np.asarray(values, dtype=dtype)
    return minigrad.tensor(arr, requires_grad=requires_grad), torch.tensor(arr, requires_grad=requires_grad)


def close(m, t):
    np.testing.assert_allclose(m.detach().numpy() if isinstance(m, minigrad.Tensor) else m, t.detach().numpy(), rtol=1e-12, atol=1e-12)


# -- graph shapes -----------------------------------------------------------------------
def test_a_20000_op_chain_backpropagates_without_recursion():
    # 40,000 nodes deep: forty times Python's default recursion limit, so any recursive walk fails.
    x = minigrad.tensor(1.0, dtype=minigrad.float64, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_a_diamond_sums_the_gradients_of_both_paths():
    def f(lib, x):
        y = x * 2
        return (y * y + lib.exp(y) + y).sum()

    m, t = both([0.3, -1.2, 2.0])
    f(minigrad, m).backward()
    f(torch, t).backward()
    close(m.grad, t.grad)


def test_an_input_used_twice_by_one_op_gets_both_gradients():
    m, t = both([1.5, -2.0])
    (m * m).sum().backward()
    (t * t).sum().backward()
    close(m.grad, t.grad)


@settings(max_examples=30)
@given(mst.broadcast_shape_pairs(max_dims=3, max_side=3), st.data())
def test_broadcast_gradients_are_reduced_to_each_input_shape(shapes, data):
    a = data.draw(mst.arrays(shapes[0]))
    b = data.draw(mst.arrays(shapes[1]))
    ma, mb = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a.copy(), requires_grad=True), torch.tensor(b.copy(), requires_grad=True)
    ((ma * mb).tanh() * 3).sum().backward()
    ((ta * tb).tanh() * 3).sum().backward()
    assert ma.grad.shape == a.shape and mb.grad.shape == b.shape
    close(ma.grad, ta.grad)
    close(mb.grad, tb.grad)


def test_an_op_returning_a_gradient_of_the_wrong_shape_is_an_error():
    class Bad(minigrad.autograd.Primitive):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return np.ones(7)

    x = minigrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be reduced to input shape"):
        Bad.apply(x).sum().backward()


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_gradient_with_fewer_dimensions_than_its_input_is_an_error_naming_the_op(create_graph):
    class DropsIncoming(minigrad.autograd.Primitive):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return np.float64(2.0) if not create_graph else minigrad.tensor(2.0)  # the local derivative, ȳ forgotten

    x = minigrad.ones((2, 3), dtype=minigrad.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"DropsIncomingBackward0 returned a gradient of shape \(\) for input 0 "
                                           r"of shape \(2, 3\): a gradient with fewer dimensions"):
        minigrad.autograd.grad(DropsIncoming.apply(x).sum(), x, create_graph=create_graph)


# -- accumulation -----------------------------------------------------------------------
def test_leaves_accumulate_grad_across_backward_calls_in_place():
    m, t = both([1.0, 2.0])
    for _ in range(2):
        (m.exp() * 3).sum().backward()
        (t.exp() * 3).sum().backward()
    close(m.grad, t.grad)
    held = m.grad
    (m * 1).sum().backward()
    assert m.grad is held  # accumulated into the same tensor, as PyTorch does
    close(held, t.grad + 1)


def test_gradients_handed_to_two_leaves_are_independent_arrays():
    a = minigrad.ones(3, requires_grad=True)
    b = minigrad.ones(3, requires_grad=True)
    (a + b).sum().backward()  # Add hands the same array to both inputs
    a.grad.add_(10)
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3))


def test_a_tensor_returned_by_a_hook_is_not_changed_by_later_accumulation():
    x = minigrad.ones(2, requires_grad=True)
    kept = minigrad.full((2,), 5.0)
    x.register_hook(lambda g: kept)
    (x * 1).sum().backward()
    (x * 1).sum().backward()
    np.testing.assert_array_equal(kept.detach().numpy(), [5.0, 5.0])
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 10.0])


def test_threads_backpropagating_into_one_shared_leaf_lose_no_update():
    n, threads, repeats = 200_000, 8, 20  # large arrays: NumPy releases the GIL while adding
    w = minigrad.zeros(n, dtype=minigrad.float64, requires_grad=True)
    start = threading.Barrier(threads)

    def work(k):
        c = minigrad.full((n,), float(k + 1), dtype=minigrad.float64)
        start.wait()
        for _ in range(repeats):
            (w * c).sum().backward()

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    expected = repeats * sum(range(1, threads + 1))  # exact in float64
    np.testing.assert_array_equal(w.grad.numpy(), np.full(n, float(expected)))


def test_an_array_that_reuses_the_id_of_a_freed_gradient_is_adopted_without_a_copy():
    from minigrad.autograd.engine import _Owner

    owner = _Owner()
    gone = np.ones(1000)
    owner.mark(gone)  # seen during the pass, then freed
    freed_id = id(gone)
    del gone
    alive = []  # CPython hands the freed address to a new array soon
    for _ in range(10_000):
        fresh = np.ones(1000)
        if id(fresh) == freed_id:
            break
        alive.append(fresh)
    assert id(fresh) == freed_id, "could not force the reuse of an id"
    assert owner.claim(fresh) is fresh  # nothing else has seen this array: no copy


# -- backward() arguments and errors ------------------------------------------------------
def test_backward_without_gradient_needs_a_one_element_output():
    m, t = both([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (m * 2).backward()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (t * 2).backward()
    (m * 2).backward(minigrad.tensor([1.0, -1.0], dtype=minigrad.float64))
    (t * 2).backward(torch.tensor([1.0, -1.0], dtype=torch.float64))
    close(m.grad, t.grad)
    one = minigrad.tensor([[3.0]], requires_grad=True)
    (one * 2).backward()  # one element, any shape: fine
    assert one.grad.tolist() == [[2.0]]


def test_backward_on_a_tensor_that_does_not_require_grad_is_an_error():
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
            lib.ones(1).sum().backward()


def test_a_second_backward_through_a_freed_graph_raises_unless_retain_graph():
    m, t = both([0.5, 1.0])
    for x in (m, t):
        y = x.exp().sum()
        y.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            y.backward()
    m2, t2 = both([0.5, 1.0])
    for x in (m2, t2):
        y = x.exp().sum()
        y.backward(retain_graph=True)
        y.backward()
    close(m2.grad, t2.grad)


def test_a_graph_that_saved_no_arrays_can_backward_twice_as_in_pytorch():
    m, t = both([0.5, 1.0])
    for x in (m, t):
        y = (x + 1.0).sum()  # add and sum save no tensors
        y.backward()
        y.backward()
    close(m.grad, t.grad)


def test_backward_inputs_restricts_accumulation():
    (ma, ta), (mb, tb) = both([1.0]), both([2.0])
    (ma * mb).sum().backward(inputs=[ma])
    (ta * tb).sum().backward(inputs=[ta])
    close(ma.grad, ta.grad)
    assert mb.grad is None and tb.grad is None


# -- autograd.grad --------------------------------------------------------------------------
def test_autograd_grad_returns_gradients_without_touching_dot_grad():
    (ma, ta), (mb, tb) = both([1.0, 2.0]), both([3.0, -1.0])
    gm = minigrad.autograd.grad((ma * mb).exp().sum(), [ma, mb])
    gt = torch.autograd.grad((ta * tb).exp().sum(), [ta, tb])
    for g, r in zip(gm, gt):
        close(g, r)
    assert ma.grad is None and mb.grad is None


def test_autograd_grad_of_an_unused_input_is_an_error_unless_allow_unused():
    (ma, ta), (mb, tb) = both([1.0]), both([2.0])
    for lib, a, b in ((minigrad, ma, mb), (torch, ta, tb)):
        with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
            lib.autograd.grad((a * 2).sum(), [a, b])
        ga, gb = lib.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
        assert gb is None and ga.tolist() == [2.0]


def test_autograd_grad_with_respect_to_a_non_leaf():
    m, t = both([1.0, 2.0])
    hm, ht = m * 3, t * 3
    (gm,) = minigrad.autograd.grad((hm * hm).sum(), hm)
    (gt,) = torch.autograd.grad((ht * ht).sum(), ht)
    close(gm, gt)


# -- grad mode --------------------------------------------------------------------------------
def test_no_grad_nests_and_restores_each_outer_mode():
    x = minigrad.ones(1, requires_grad=True)
    with minigrad.no_grad():
        assert not (x * 2).requires_grad
        with minigrad.enable_grad():
            assert (x * 2).requires_grad
            with minigrad.no_grad():
                assert not minigrad.is_grad_enabled()
            assert minigrad.is_grad_enabled()
        assert not minigrad.is_grad_enabled()
    assert minigrad.is_grad_enabled()


def test_no_grad_and_enable_grad_work_as_decorators():
    x = minigrad.ones(1, requires_grad=True)

    @minigrad.no_grad()
    def frozen(t):
        return t * 2

    @minigrad.enable_grad()
    def recorded(t):
        return t * 2

    assert not frozen(x).requires_grad
    with minigrad.no_grad():
        assert recorded(x).requires_grad
    assert minigrad.is_grad_enabled()


def test_the_same_no_grad_instance_is_reentrant():
    guard = minigrad.no_grad()

    @guard
    def depth(n):
        assert not minigrad.is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3
    with guard:
        with guard:
            pass
        assert not minigrad.is_grad_enabled()
    assert minigrad.is_grad_enabled()


def test_set_grad_enabled_as_function_context_and_decorator():
    minigrad.set_grad_enabled(False)
    torch.set_grad_enabled(False)
    assert minigrad.is_grad_enabled() == torch.is_grad_enabled() == False  # noqa: E712
    minigrad.set_grad_enabled(True)
    torch.set_grad_enabled(True)
    with minigrad.set_grad_enabled(False):
        assert not minigrad.is_grad_enabled()
    assert minigrad.is_grad_enabled()

    @minigrad.set_grad_enabled(False)
    def f():
        return minigrad.is_grad_enabled()

    assert minigrad.is_grad_enabled()
    assert f() is False
    assert minigrad.is_grad_enabled()


# -- hooks and non-leaf gradients -----------------------------------------------------------
def test_hooks_on_leaves_and_non_leaves_see_and_replace_gradients():
    seen = {"minigrad": [], "torch": []}
    m, t = both([1.0, -2.0])
    for lib, x in (("minigrad", m), ("torch", t)):
        x.register_hook(lambda g, lib=lib: seen[lib].append(("leaf", g.tolist())))
        h = x * 3
        h.register_hook(lambda g, lib=lib: seen[lib].append(("h", g.tolist())))
        h.register_hook(lambda g: g * 10)  # a replacement travels on
        (h * h).sum().backward()
    assert seen["minigrad"] == seen["torch"]
    close(m.grad, t.grad)


def test_a_hook_on_a_leaf_runs_before_accumulation():
    m, t = both([1.0, 2.0])
    for x in (m, t):
        x.register_hook(lambda g: g * 0 + 7)
        (x * 5).sum().backward()
    close(m.grad, t.grad)


@pytest.mark.parametrize("lib", [minigrad, torch])
@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "non-leaf"])
def test_a_hook_returning_another_shape_dtype_or_type_is_an_error(lib, leaf):
    for replacement, error, match in (
        (lambda g: lib.ones(4, dtype=g.dtype), RuntimeError, "hook '<lambda>' has changed the size of value"),
        (lambda g: g.double(), RuntimeError, "hook '<lambda>' has changed the type of value"),
        (lambda g: 5, TypeError, "hook returned 'int'"),
    ):
        x = lib.ones(3, requires_grad=True)
        target = x if leaf else x * 1
        target.register_hook(replacement)
        with pytest.raises(error, match=match):
            (target * 2).sum().backward()
        assert x.grad is None


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_register_hook_returns_a_handle_that_removes_it(lib):
    calls = []
    x = lib.ones(2, requires_grad=True)
    h = x * 2
    handles = [x.register_hook(lambda g: calls.append("leaf")), h.register_hook(lambda g: calls.append("h"))]
    (h * 1).sum().backward(retain_graph=True)
    for handle in handles:
        handle.remove()
        handle.remove()  # twice is harmless
    (h * 1).sum().backward()
    assert calls == ["h", "leaf"]


def test_a_node_hook_handle_removes_it():
    calls = []
    x = minigrad.ones(2, requires_grad=True)
    y = x * 2
    handle = y.grad_fn.register_hook(lambda g: calls.append(1))
    (y * 1).sum().backward(retain_graph=True)
    handle.remove()
    (y * 1).sum().backward()
    assert calls == [1]


def test_non_leaf_grad_is_none_with_a_warning_unless_retain_grad():
    m, t = both([1.0, 2.0])
    hm, ht = m * 2, t * 2
    (hm * hm).sum().backward(retain_graph=True)
    (ht * ht).sum().backward(retain_graph=True)
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert hm.grad is None
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert ht.grad is None
    hm2, ht2 = m * 2, t * 2
    hm2.retain_grad()
    ht2.retain_grad()
    (hm2 * hm2 + hm2).sum().backward()
    (ht2 * ht2 + ht2).sum().backward()
    assert hm2.retains_grad and ht2.retains_grad
    close(hm2.grad, ht2.grad)


# -- requires_grad rules --------------------------------------------------------------------
def test_integer_tensors_cannot_require_grad():
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
            lib.tensor([1, 2], requires_grad=True)
        with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
            lib.tensor([1, 2]).requires_grad_()


def test_changing_requires_grad_of_a_non_leaf_is_an_error_suggesting_detach():
    m, t = both([1.0])
    for x in (m, t):
        with pytest.raises(RuntimeError, match="detach"):
            (x * 2).requires_grad = False


# -- in-place changes and the version counter ------------------------------------------------
def test_an_in_place_change_of_a_saved_output_makes_backward_raise_naming_the_op():
    m, t = both([0.1, 0.2])
    for x in (m, t):
        y = x.exp()  # exp saves its output
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    y = m.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"ExpBackward.*version 1; expected version 0"):
        y.sum().backward()


def test_an_in_place_change_of_a_saved_input_makes_backward_raise():
    m, t = both([0.1, 0.2])
    for x in (m, t):
        a = x * 1
        b = a ** 2  # pow saves its input
        a.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            b.sum().backward()


def test_an_in_place_change_of_an_unsaved_tensor_is_fine():
    m, t = both([0.1, 0.2])
    for x in (m, t):
        a = x * 1
        b = a + 1  # add saves nothing
        a.mul_(2)
        (b * a).sum().backward()
    close(m.grad, t.grad)


def test_in_place_ops_on_non_leaves_are_differentiated_like_pytorch():
    def program(lib, x, v):
        y = x * 2
        y += x
        y.mul_(x)
        y.sub_(1.5)
        y.div_(2.0)
        y[0] = v * 3  # setitem through the graph
        z = x * 1
        z.zero_()
        w = x * 1
        w.copy_(v.exp())
        return (y * y).sum() + (z + x).sum() + w.sum()

    (mx, tx), (mv, tv) = both([0.5, -1.0, 2.0]), both([0.7])
    program(minigrad, mx, mv).backward()
    program(torch, tx, tv).backward()
    close(mx.grad, tx.grad)
    close(mv.grad, tv.grad)


def test_in_place_on_a_leaf_that_requires_grad_is_an_error_except_under_no_grad():
    m, t = both([1.0, 2.0])
    for x in (m, t):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
            x.add_(1)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            x += 1
    for lib, x in ((minigrad, m), (torch, t)):
        with lib.no_grad():
            x.mul_(3)
            x[0] = 5.0
        assert x._version == 2
    close(m, t)


def test_an_in_place_change_through_a_view_of_a_tensor_that_requires_grad_is_refused():
    x = minigrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view"):
        x[0].mul_(2)
    y = x * 1
    with pytest.raises(RuntimeError, match="view"):
        y.reshape(3, 1).add_(1)


def test_detach_shares_storage_and_version_counter():
    m, t = both([0.1, 0.2])
    for x in (m, t):
        y = x.exp()
        d = y.detach()
        assert not d.requires_grad and d.is_leaf
        d.add_(1)
        assert y._version == d._version == 1
        np.testing.assert_allclose(y.detach().numpy(), np.exp([0.1, 0.2]) + 1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


# -- memory ------------------------------------------------------------------------------------
def test_saved_arrays_are_released_after_backward_without_gc():
    gc.disable()
    try:
        x = minigrad.randn(50, dtype=minigrad.float64, requires_grad=True)
        y = (x * 3.0).exp().sum()
        exp_node = y.grad_fn.next_functions[0]
        saved = weakref.ref(exp_node.saved_tensors[0])  # exp's output: only the graph holds it
        assert saved() is not None
        y.backward()
        assert saved() is None
    finally:
        gc.enable()


def test_saved_arrays_are_kept_with_retain_graph():
    x = minigrad.randn(5, dtype=minigrad.float64, requires_grad=True)
    y = x.exp().sum()
    saved = weakref.ref(y.grad_fn.next_functions[0].saved_tensors[0])
    y.backward(retain_graph=True)
    assert saved() is not None


def test_a_dropped_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        x = minigrad.randn(20, dtype=minigrad.float64, requires_grad=True)
        h = x.tanh()
        h.retain_grad()
        h.register_hook(lambda g: g)
        y = (h * h).sum()
        refs = [weakref.ref(y.grad_fn), weakref.ref(h.grad_fn), weakref.ref(h), weakref.ref(h._array)]
        del h, y  # no backward at all: nothing but reference counts may free the graph
        assert all(r() is None for r in refs)
    finally:
        gc.enable()
