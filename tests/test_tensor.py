"""Tensor basics pinned to PyTorch: factories and their dtypes, conversion and
copy semantics, printing, item/tolist, and the rules for in-place changes."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.testing import strategies as mst


def dtype_name(t) -> str:
    return str(t.dtype).replace("torch.", "") if isinstance(t, torch.Tensor) else t.dtype.name


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.tensor(1.0),
        lambda lib: lib.tensor([1.0, 2.0]),
        lambda lib: lib.tensor([1, 2]),
        lambda lib: lib.tensor([True, False]),
        lambda lib: lib.tensor([[1, 2.5]]),
        lambda lib: lib.tensor(np.zeros(2, dtype=np.float64)),
        lambda lib: lib.tensor(np.zeros(2, dtype=np.int32)),
        lambda lib: lib.tensor([1.0], dtype=lib.float64),
        lambda lib: lib.zeros(2, 3),
        lambda lib: lib.ones((2,), dtype=lib.int64),
        lambda lib: lib.full((2,), 3),
        lambda lib: lib.full((2,), 3.0),
        lambda lib: lib.full((2,), True),
        lambda lib: lib.zeros_like(lib.ones(2, dtype=lib.float64)),
        lambda lib: lib.ones_like(lib.tensor([1, 2])),
        lambda lib: lib.full_like(lib.ones(2), 7),
        lambda lib: lib.zeros_like(lib.ones(2), dtype=lib.float64),
        lambda lib: lib.arange(5),
        lambda lib: lib.arange(0, 1, 0.25),
        lambda lib: lib.arange(1.0, 4.0),
        lambda lib: lib.eye(3),
        lambda lib: lib.eye(2, 3),
        lambda lib: lib.rand(2, 2),
        lambda lib: lib.randn(3),
        lambda lib: lib.rand_like(lib.ones(2, dtype=lib.float64)),
        lambda lib: lib.randint(0, 10, (3,)),
        lambda lib: lib.randint(10, (3,)),
    ],
)
def test_factories_give_pytorchs_shapes_and_dtypes(make):
    m, t = make(minigrad), make(torch)
    assert m.shape == tuple(t.shape)
    assert dtype_name(m) == dtype_name(t)
    assert not m.requires_grad and m.is_leaf and m.grad is None


def test_deterministic_factories_give_pytorchs_values():
    for make in (lambda lib: lib.arange(0, 1, 0.25), lambda lib: lib.eye(2, 3), lambda lib: lib.full((2,), 3.0)):
        np.testing.assert_array_equal(make(minigrad).detach().numpy(), make(torch).numpy())


def test_manual_seed_makes_random_factories_reproducible():
    minigrad.manual_seed(7)
    a = (minigrad.rand(3), minigrad.randn(2), minigrad.randint(0, 5, (4,)))
    minigrad.manual_seed(7)
    b = (minigrad.rand(3), minigrad.randn(2), minigrad.randint(0, 5, (4,)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    assert ((a[0].detach().numpy() >= 0) & (a[0].detach().numpy() < 1)).all() and ((a[2].detach().numpy() >= 0) & (a[2].detach().numpy() < 5)).all()


@given(st.sampled_from([np.float32, np.float64, np.int32]).flatmap(lambda d: mst.arrays(mst.shapes(0, 3), dtype=d)))
def test_tensor_copies_an_array_and_keeps_its_dtype(arr):
    t = minigrad.tensor(arr)
    assert t.dtype == arr.dtype and t.shape == arr.shape
    np.testing.assert_array_equal(t.detach().numpy(), arr)
    assert not np.shares_memory(t.detach().numpy(), arr)
    assert minigrad.from_numpy(arr).numpy() is arr  # from_numpy shares, as in PyTorch


def test_tensor_of_a_tensor_copies():
    a = minigrad.tensor([1.0, 2.0])
    b = minigrad.tensor(a)
    b.data[0] = 9
    assert a.tolist() == [1.0, 2.0]


def test_properties_and_conversions_match_pytorch():
    values = [[1.5, 2.0, 3.0], [4.0, 5.0, 6.0]]
    m, t = minigrad.tensor(values), torch.tensor(values)
    assert m.shape == tuple(t.shape) and m.ndim == t.ndim and m.dim() == t.dim()
    assert m.size() == tuple(t.size()) and m.size(1) == t.size(1) and m.size(-1) == t.size(-1)
    assert m.numel() == t.numel() and len(m) == len(t)
    assert m.tolist() == t.tolist()
    assert m[0, 0].item() == t[0, 0].item() and isinstance(m[0, 0].item(), float)
    assert minigrad.tensor([3]).item() == 3 and isinstance(minigrad.tensor([3]).item(), int)
    for lib, x in ((minigrad, m), (torch, t)):
        with pytest.raises(RuntimeError, match="cannot be converted to (a Python )?[Ss]calar"):
            x.item()
    arr = m.numpy()
    arr[0, 0] = -1  # numpy() shares memory
    assert m[0, 0].item() == -1


def test_numpy_of_a_tensor_that_requires_grad_is_an_error():
    for lib in (minigrad, torch):
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
            x.numpy()
        assert x.detach().numpy().tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "values,dtype",
    [
        ([1.0, 2.0, 3.0], None),
        ([1.5, 2.25], None),
        (3.0, None),
        ([1, 2], None),
        ([True, False], None),
        ([], None),
        ([[1.0, 2.0], [3.0, 4.0]], None),
        ([1.0, 2.0], "float64"),
        ([], "int64"),
        ([0.5, -1.25], "float64"),
    ],
)
def test_repr_matches_pytorch(values, dtype):
    m = minigrad.tensor(values, dtype=None if dtype is None else getattr(minigrad, dtype))
    t = torch.tensor(values, dtype=None if dtype is None else getattr(torch, dtype))
    assert repr(m) == repr(t).replace("torch.", "minigrad.")


def test_repr_shows_requires_grad_and_grad_fn():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2).startswith("tensor([2., 4.], grad_fn=<MulBackward0>)")


def test_comparisons_give_bool_tensors_without_grad():
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x > 1.5, x <= 2, x == 2, x != 2):
        assert r.dtype == np.bool_ and not r.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]


def test_type_promotion_follows_pytorch():
    cases = [
        lambda lib: lib.tensor([1, 2]) + 0.5,
        lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 2]),
        lambda lib: lib.tensor([1.0]) + lib.tensor(1.0, dtype=lib.float64),
        lambda lib: lib.tensor([1, 2]) * lib.ones(2, dtype=lib.float64),
        lambda lib: lib.tensor([1, 2]) * 3,
        lambda lib: 2 ** lib.ones(2),
        lambda lib: lib.ones(2, dtype=lib.float64).float(),
        lambda lib: lib.ones(2).long(),
    ]
    for make in cases:
        assert dtype_name(make(minigrad)) == dtype_name(make(torch))


def test_converting_to_an_integer_dtype_leaves_the_graph():
    for lib in (minigrad, torch):
        x = lib.ones(2, requires_grad=True)
        assert not x.long().requires_grad
        assert x.double().requires_grad


# -- in-place rules -----------------------------------------------------------------------
def test_in_place_ops_bump_the_version_and_share_memory():
    for lib in (minigrad, torch):
        x = lib.zeros(3)
        before = x.numpy()
        x.add_(1)
        x += 1
        x.mul_(2)
        x[0] = 10.0
        x.fill_(3.0)
        x.zero_()
        x.copy_(lib.ones(3))
        assert x._version == 7
        assert before.tolist() == [1.0, 1.0, 1.0]


def test_fill_and_copy_follow_pytorch_values():
    for lib in (minigrad, torch):
        x = lib.zeros(2, 3)
        x.copy_(lib.tensor([1.0, 2.0, 3.0]))  # broadcast
        assert x.tolist() == [[1.0, 2.0, 3.0]] * 2
        x.fill_(2)
        assert x.tolist() == [[2.0] * 3] * 2


def test_requires_grad_flags():
    x = minigrad.ones(2)
    assert not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert not y.detach().requires_grad
    with minigrad.no_grad():
        assert not (x * 2).requires_grad


@given(data=st.data(), arr=mst.arrays(mst.shapes(min_dims=1)))
def test_argmax_and_argmin_match_pytorch_first_index_on_ties(data, arr):
    # Rounding to a coarse grid makes ties common, where "first index" matters.
    arr = np.round(arr)
    dim = data.draw(st.none() | st.integers(-arr.ndim, arr.ndim - 1))
    keepdim = data.draw(st.booleans()) and dim is not None
    x, t = minigrad.tensor(arr), torch.tensor(arr)
    for name in ("argmax", "argmin"):
        got = getattr(x, name)(dim=dim, keepdim=keepdim)
        want = getattr(t, name)(dim=dim, keepdim=keepdim)
        assert got.dtype == np.int64 and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(
    "op",
    [
        lambda lib, x: lib.softmax(x, 0),
        lambda lib, x: lib.log_softmax(x, -1) * 3,
        lambda lib, x: lib.max(x, 0).values * 2,
        lambda lib, x: lib.min(x, -1, keepdim=True).values,
        lambda lib, x: lib.logsumexp(x, 0),
        lambda lib, x: lib.sum(x, 0) * x,
    ],
    ids=["softmax", "log_softmax", "max", "min", "logsumexp", "sum"],
)
def test_dim_taking_ops_treat_a_0d_tensor_as_one_element_like_pytorch(op):
    x = minigrad.tensor(np.float64(1.5), requires_grad=True)
    t = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    y, ty = op(minigrad, x), op(torch, t)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())
    y.backward()
    ty.backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_a_0d_tensor_rejects_dims_other_than_0_and_minus_1():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        minigrad.tensor(1.0).softmax(1)
    assert minigrad.tensor(2.0).argmax(0).item() == 0


def test_iterating_a_tensor_gives_its_rows_from_one_unbind_node_as_pytorch():
    x = minigrad.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    t = torch.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    (q, k, v), (tq, tk, tv) = x * 1, t * 1
    assert type(q.grad_fn).__name__ == type(tq.grad_fn).__name__ == "UnbindBackward0"
    assert q.grad_fn.next_functions[0] is k.grad_fn.next_functions[0]  # the op's one node
    (q * 2 + v * v).sum().backward()  # k unused: its rows of x.grad are zeros
    (tq * 2 + tv * tv).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    assert [r.tolist() for r in minigrad.tensor([1.0, 2.0])] == [1.0, 2.0]
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(minigrad.tensor(1.0))


@pytest.mark.parametrize("element", [2.0, 7, np.int64(3), minigrad.tensor(4.0), minigrad.tensor([[9.0, 1.0]]), float("nan")])
def test_in_asks_whether_any_element_equals_as_pytorch(element):
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    t_element = torch.tensor(element.numpy()) if isinstance(element, minigrad.Tensor) else element
    assert (element in minigrad.tensor(values)) is (t_element in torch.tensor(values))
    with pytest.raises(RuntimeError, match="only supports Tensor or scalar, but you passed in a <class 'str'>"):
        "a" in minigrad.tensor(values)  # noqa: B015


def test_pieces_of_split_and_unbind_are_views_sharing_the_version_counter():
    x = minigrad.tensor(np.arange(6.0).reshape(2, 3))
    a, b = x.split([1, 1])
    row = x.unbind(0)[1]
    x.add_(1)
    assert a._version == row._version == x._version == 1
    assert a.tolist() == [[1.0, 2.0, 3.0]] and row.tolist() == [4.0, 5.0, 6.0]
    y = minigrad.tensor(np.ones((2, 3)), requires_grad=True) * 1
    first, _ = y.unbind(0)
    with pytest.raises(RuntimeError, match="in-place operation on a view"):
        first.mul_(2)


@pytest.mark.parametrize("n, chunks", [(0, 3), (5, 4), (6, 4), (2, 5)])
def test_chunk_gives_pytorchs_number_of_pieces_and_sizes(n, chunks):
    got = minigrad.zeros(n, 2, requires_grad=True).chunk(chunks)
    want = torch.zeros(n, 2, requires_grad=True).chunk(chunks)
    assert [p.shape for p in got] == [tuple(p.shape) for p in want]
    assert [p.grad_fn.name() for p in got] == [p.grad_fn.name() for p in want]


def test_hooks_and_retain_grad_on_a_piece_see_that_piece_s_gradient():
    x = minigrad.tensor(np.ones((3, 2)), requires_grad=True)
    a, b, c = x.split(1)
    seen = []
    a.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    b.retain_grad()
    (a.sum() + 2 * b.sum() + 2 * a.sum()).backward()
    assert seen == [[[3.0, 3.0]]]
    assert b.grad.tolist() == [[2.0, 2.0]]
    assert x.grad.tolist() == [[30.0, 30.0], [2.0, 2.0], [0.0, 0.0]]
