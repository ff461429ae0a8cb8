"""The non-differentiable halves and the in-place forms of the gather/scatter family,
sorting and scans, against PyTorch (the differentiable halves are in the op table)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.testing import strategies as mst


def _t(a):
    return minigrad.tensor(np.asarray(a))


def _th(a):
    return torch.tensor(np.array(a))  # a copy: torch refuses negatively strided arrays


# Values on a coarse grid, so that ties are common; NaN included.
tied = hnp.arrays(np.float64, mst.shapes(0, 3, 1, 5), elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0, np.nan]))


@settings(max_examples=60)
@given(x=tied, descending=st.booleans(), data=st.data())
def test_stable_sort_indices_and_values_match_pytorch_with_ties_and_nan(x, descending, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1)) if x.ndim else 0
    got = minigrad.sort(_t(x), dim=dim, descending=descending, stable=True)
    want = torch.sort(_th(x), dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    assert got.indices.dtype == np.int64
    np.testing.assert_array_equal(minigrad.argsort(_t(x), dim, descending, stable=True).numpy(), want.indices.numpy())


@settings(max_examples=40)
@given(x=mst.arrays(mst.shapes(1, 3, 1, 5), distinct=True, gap=1 / 8), largest=st.booleans(), data=st.data())
def test_topk_indices_match_pytorch(x, largest, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(0, x.shape[dim]))
    got = _t(x).topk(k, dim, largest)
    want = _th(x).topk(k, dim, largest)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


def test_integer_sorts_keep_the_dtype():
    x = minigrad.tensor([3, 1, 2], dtype=minigrad.int32)
    assert x.sort().values.dtype == np.int32 and x.topk(1).values.tolist() == [3]


def test_sort_and_topk_results_unpack_name_and_print_as_pytorch_return_types():
    values, indices = minigrad.sort(minigrad.tensor([2.0, 1.0]))
    assert values.tolist() == [1.0, 2.0] and indices.tolist() == [1, 0]
    r = minigrad.topk(minigrad.tensor([2.0, 1.0]), 1)
    assert repr(r) == "minigrad.return_types.topk(\nvalues=tensor([2.]),\nindices=tensor([0]))"
    assert isinstance(r, minigrad.return_types.topk)
    m = minigrad.tensor([[1.0, 3.0]]).max(1)
    assert repr(m) == "minigrad.return_types.max(\nvalues=tensor([3.]),\nindices=tensor([1]))"
    assert type(minigrad.min(minigrad.ones(2), 0)).__name__ == "min"


@settings(max_examples=40)
@given(data=st.data())
def test_scatter_and_scatter_add_read_only_the_index_block_of_a_larger_src(data):
    x = data.draw(mst.arrays(mst.shapes(1, 3, 1, 3)))
    dim = data.draw(st.integers(0, x.ndim - 1))
    shape = tuple(data.draw(st.integers(1, 4 if i == dim else n)) for i, n in enumerate(x.shape))
    idx = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, x.shape[dim] - 1)))
    src = data.draw(mst.arrays(tuple(n + 1 for n in shape)))
    got = minigrad.scatter_add(_t(x), dim, _t(idx), _t(src))
    np.testing.assert_allclose(got.numpy(), torch.scatter_add(_th(x), dim, _th(idx), _th(src)).numpy())
    unique = np.zeros(shape, np.int64)[tuple(slice(0, 1) if i == dim else slice(None) for i in range(x.ndim))]
    got = minigrad.scatter(_t(x), dim, _t(unique), _t(src))
    np.testing.assert_allclose(got.numpy(), torch.scatter(_th(x), dim, _th(unique), _th(src)).numpy())


def test_index_add_in_place_accumulates_repeats_and_keeps_the_graph():
    w = minigrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    src = minigrad.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], requires_grad=True)
    y = w * 1
    before = y._version
    out = y.index_add_(0, minigrad.tensor([2, 0, 2]), src, alpha=2)
    assert out is y and y._version == before + 1
    assert y.tolist() == [[5.0, 6.0], [3.0, 4.0], [13.0, 14.0]]
    (y * minigrad.tensor([[1.0], [10.0], [100.0]])).sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0], [10.0, 10.0], [100.0, 100.0]]
    assert src.grad.tolist() == [[200.0, 200.0], [2.0, 2.0], [200.0, 200.0]]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.index_add_(0, minigrad.tensor([0]), src[:1])


def test_scatter_in_place_makes_one_hot_rows():
    labels = minigrad.tensor([[2], [0]])
    one_hot = minigrad.zeros(2, 3).scatter_(1, labels, 1.0)
    assert one_hot.tolist() == torch.zeros(2, 3).scatter_(1, torch.tensor([[2], [0]]), 1.0).tolist()
    counts = minigrad.zeros(3).scatter_add_(0, minigrad.tensor([1, 1, 2]), minigrad.ones(3))
    assert counts.tolist() == [0.0, 2.0, 1.0]


def test_method_forms_call_the_functions():
    x = minigrad.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    idx = minigrad.tensor([[0, 0], [1, 0]])
    assert x.gather(1, idx).tolist() == minigrad.gather(x, 1, idx).tolist()
    assert x.index_select(1, minigrad.tensor([2])).tolist() == [[2.0], [4.0]]
    assert x.cumsum(1).tolist() == [[3.0, 4.0, 6.0], [0.0, 5.0, 9.0]]
    assert x.cumprod(0, dtype=minigrad.float64).dtype == np.float64
    assert x.argsort(descending=True).tolist() == [[0, 2, 1], [1, 2, 0]]
    assert x.mm(x.T).tolist() == minigrad.einsum("ij,kj", x, x).tolist()
    assert x[None].bmm(x.T[None]).shape == (1, 2, 2)


def test_integer_scans_accumulate_in_int64_as_pytorch():
    for dtype in (np.uint8, np.int32, np.bool_):
        x = np.array([200, 100, 1]).astype(dtype)
        got = minigrad.cumsum(minigrad.tensor(x), 0)
        want = torch.cumsum(_th(x), 0)
        assert got.dtype == np.int64 and got.tolist() == want.tolist()


def test_einsum_takes_its_operands_as_a_list_and_refuses_an_ellipsis():
    a = minigrad.ones(2, 3)
    assert minigrad.einsum("ij,kj->ik", [a, a]).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    with pytest.raises(NotImplementedError, match="ellipsis"):
        minigrad.einsum("...j,kj->k", a, a)


def test_cumprod_through_zeros_matches_pytorch_at_first_and_second_order():
    x = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 1.5, -2.0, 0.5, 1.0]])
    u, v = np.arange(10.0).reshape(2, 5) - 4, np.linspace(-1, 1, 10).reshape(2, 5)
    xm = minigrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    (gm,) = minigrad.autograd.grad(minigrad.cumprod(xm, 1), xm, minigrad.tensor(u), create_graph=True)
    (gt,) = torch.autograd.grad(torch.cumprod(xt, 1), xt, torch.tensor(u), create_graph=True)
    np.testing.assert_allclose(gm.detach().numpy(), gt.detach().numpy())
    (hm,) = minigrad.autograd.grad(gm, xm, minigrad.tensor(v))
    (ht,) = torch.autograd.grad(gt, xt, torch.tensor(v))
    np.testing.assert_allclose(hm.detach().numpy(), ht.numpy())


def test_new_tensors_take_this_tensors_dtype_unless_told_and_nelement_is_numel():
    x = minigrad.zeros(2, 3, dtype=minigrad.float64)
    for t, want in ((x.new_zeros(2), [0.0, 0.0]), (x.new_ones((1, 2)), [[1.0, 1.0]]), (x.new_full((2,), 7), [7.0, 7.0]),
                    (x.new_tensor([1, 2]), [1.0, 2.0])):
        assert t.dtype == np.float64 and t.tolist() == want and t.is_leaf and not t.requires_grad
    assert x.new_empty(4).shape == (4,) and x.new_zeros(2, dtype=minigrad.int64).dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad
    assert x.nelement() == 6 == x.numel()
    with pytest.raises(RuntimeError, match="cuda"):
        x.new_zeros(2, device="cuda")


def test_the_norm_of_zero_has_pytorchs_zero_gradient_not_nan():
    x = minigrad.zeros(3, dtype=minigrad.float64, requires_grad=True)
    minigrad.norm(x).backward()
    xt = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    torch.norm(xt).backward()
    assert x.grad.tolist() == xt.grad.tolist() == [0.0, 0.0, 0.0]


def test_matrix_norms_other_than_frobenius_say_they_are_not_provided():
    with pytest.raises(NotImplementedError, match="'fro' is"):
        minigrad.linalg.norm(minigrad.ones(2, 2), ord="nuc")
