"""Embedding and EmbeddingBag: the facts this project teaches, then parity with PyTorch.

The facts: a lookup is ``one_hot(idx) @ W`` (same output, same weight
gradient); duplicate indices accumulate; rows not looked up get zero gradient;
the padding row gets zero gradient; a sparse gradient densifies to the dense one.
"""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.sparse import SparseTensor


def _w(rng, v, d, dtype=np.float64):
    return rng.standard_normal((v, d)).astype(dtype)


@st.composite
def lookups(draw, max_v=8, max_d=4, min_n=0):
    """(V, D, idx) with idx of a random shape (0-d, empty and many duplicates included)."""
    v = draw(st.integers(1, max_v))
    d = draw(st.integers(1, max_d))
    shape = draw(st.sampled_from([(), (0,), (1,), (5,), (3, 4), (2, 0, 3), (2, 2, 2)]))
    n = int(np.prod(shape))
    values = draw(st.lists(st.integers(0, v - 1), min_size=n, max_size=n))
    idx = np.array(values, dtype=draw(st.sampled_from([np.int64, np.int32]))).reshape(shape)
    return v, d, idx


# -- the facts ---------------------------------------------------------------------------
@given(lookups(), st.integers(0, 2**31 - 1))
def test_embedding_equals_one_hot_matmul_with_identical_weight_gradients(case, seed):
    v, d, idx = case
    rng = np.random.default_rng(seed)
    w_data = _w(rng, v, d)
    cot = rng.standard_normal(idx.shape + (d,))
    w1 = minigrad.tensor(w_data, requires_grad=True)
    w2 = minigrad.tensor(w_data, requires_grad=True)
    out1 = F.embedding(minigrad.tensor(idx), w1)
    out2 = F.one_hot(minigrad.tensor(idx), v).double() @ w2
    np.testing.assert_allclose(out1.detach().numpy(), out2.detach().numpy(), rtol=0, atol=0)
    out1.backward(minigrad.tensor(cot))
    out2.backward(minigrad.tensor(cot))
    np.testing.assert_allclose(w1.grad.detach().numpy(), w2.grad.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_duplicate_indices_accumulate_their_gradients():
    w = minigrad.tensor(np.zeros((4, 2)), requires_grad=True)
    out = F.embedding(minigrad.tensor([3, 1, 3, 3]), w)
    out.backward(minigrad.tensor(np.array([[1.0, 2.0], [5.0, 5.0], [10.0, 20.0], [100.0, 200.0]])))
    np.testing.assert_array_equal(w.grad.detach().numpy()[3], [111.0, 222.0])
    np.testing.assert_array_equal(w.grad.detach().numpy()[1], [5.0, 5.0])


@given(lookups(min_n=1), st.integers(0, 2**31 - 1))
def test_rows_not_looked_up_get_exactly_zero_gradient(case, seed):
    v, d, idx = case
    w = minigrad.tensor(_w(np.random.default_rng(seed), v, d), requires_grad=True)
    F.embedding(minigrad.tensor(idx), w).backward(minigrad.tensor(np.ones(idx.shape + (d,))))
    untouched = np.setdiff1d(np.arange(v), idx.reshape(-1))
    assert (w.grad.detach().numpy()[untouched] == 0).all()
    counts = np.bincount(idx.reshape(-1), minlength=v)
    np.testing.assert_array_equal(w.grad.detach().numpy()[:, 0], counts)


def test_padding_row_gets_zero_gradient_but_is_returned_as_stored():
    emb = nn.Embedding(5, 3, padding_idx=2).double()
    assert (emb.weight.detach().numpy()[2] == 0).all()  # zeroed at init
    with minigrad.no_grad():
        emb.weight.data[2] = 7.0  # forward does not mask: the row comes back as it is
    out = emb(minigrad.tensor([2, 0, 2, 4]))
    np.testing.assert_array_equal(out.detach().numpy()[0], [7.0, 7.0, 7.0])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.detach().numpy()[2], 0.0)
    np.testing.assert_array_equal(emb.weight.grad.detach().numpy()[[0, 4], 0], [1.0, 1.0])


@given(lookups(), st.sampled_from([None, 0, -1]), st.integers(0, 2**31 - 1))
def test_sparse_gradient_to_dense_equals_the_dense_gradient(case, padding_idx, seed):
    v, d, idx = case
    rng = np.random.default_rng(seed)
    w_data, cot = _w(rng, v, d), rng.standard_normal(idx.shape + (d,))
    grads = []
    for sparse in (False, True):
        w = minigrad.tensor(w_data, requires_grad=True)
        F.embedding(minigrad.tensor(idx), w, padding_idx=padding_idx, sparse=sparse).backward(minigrad.tensor(cot))
        grads.append(w.grad)
    assert isinstance(grads[1], SparseTensor)
    np.testing.assert_allclose(grads[1].to_dense().detach().numpy(), grads[0].detach().numpy(), rtol=1e-12, atol=1e-12)


# -- parity with PyTorch -------------------------------------------------------------------
def _torch_embedding_grad(w_data, idx, cot, **kw):
    w = torch.tensor(w_data, requires_grad=True)
    out = torch.nn.functional.embedding(torch.from_numpy(idx), w, **kw)
    out.backward(torch.from_numpy(cot))
    return out.detach().numpy(), w.grad


@given(
    lookups(),
    st.sampled_from([None, 0, -1, 1]),
    st.booleans(),
    st.booleans(),
    st.sampled_from([np.float64, np.float32]),
    st.integers(0, 2**31 - 1),
)
def test_embedding_matches_torch_with_every_option(case, padding_idx, scale, sparse, dtype, seed):
    v, d, idx = case
    if padding_idx is not None and not -v <= padding_idx < v:
        padding_idx = None
    if scale and sparse:
        sparse = False  # rejected by both (see test_scale_grad_by_freq_with_sparse_is_rejected)
    if sparse and idx.ndim == 0:
        idx = idx.reshape(1)  # torch 2.13 fails on a sparse backward of a 0-d index with padding_idx
    rng = np.random.default_rng(seed)
    w_data, cot = _w(rng, v, d, dtype), rng.standard_normal(idx.shape + (d,)).astype(dtype)
    kw = dict(padding_idx=padding_idx, scale_grad_by_freq=scale, sparse=sparse)
    t_out, t_grad = _torch_embedding_grad(w_data, idx, cot, **dict(kw, sparse=False))
    w = minigrad.tensor(w_data, requires_grad=True)
    out = F.embedding(minigrad.tensor(idx), w, **kw)
    out.backward(minigrad.tensor(cot))
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    assert out.shape == tuple(t_out.shape) and out.dtype == dtype
    np.testing.assert_allclose(out.detach().numpy(), t_out, **tol)
    if sparse:
        assert w.grad.is_sparse
        # torch's uncoalesced layout: indices = flattened input minus padding entries, in order
        _, t_sparse = _torch_embedding_grad(w_data, idx, cot, **kw)
        np.testing.assert_array_equal(w.grad.indices().detach().numpy(), t_sparse._indices().numpy())
        np.testing.assert_allclose(w.grad.values().detach().numpy(), t_sparse._values().numpy(), **tol)
        got = w.grad.to_dense().detach().numpy()
    else:
        got = w.grad.detach().numpy()
    np.testing.assert_allclose(got, t_grad.numpy(), **tol)


@given(lookups(), st.integers(-1, 3), st.booleans(), st.integers(0, 2**31 - 1))
def test_top_level_embedding_takes_torchs_weight_first_order_and_options(case, padding_idx, scale, seed):
    # torch.embedding(weight, indices, padding_idx=-1, ...): weight first, negative padding_idx = none.
    v, d, idx = case
    rng = np.random.default_rng(seed)
    w_data, cot = _w(rng, v, d, np.float64), rng.standard_normal(idx.shape + (d,))
    kw = dict(padding_idx=padding_idx if padding_idx < v else -1, scale_grad_by_freq=scale)
    tw = torch.tensor(w_data, requires_grad=True)
    t_out = torch.embedding(tw, torch.from_numpy(idx), **kw)
    t_out.backward(torch.from_numpy(cot))
    w = minigrad.tensor(w_data, requires_grad=True)
    out = minigrad.embedding(w, minigrad.tensor(idx), **kw)
    out.backward(minigrad.tensor(cot))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_top_level_embedding_rejects_float_indices_like_torch():
    w = minigrad.randn(4, 2)
    with pytest.raises(RuntimeError, match="argument #1 'indices'.*Long, Int"):
        minigrad.embedding(w, minigrad.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="argument #1 'indices'.*Long, Int"):
        torch.embedding(torch.randn(4, 2), torch.tensor([0.0, 1.0]))


def test_scale_grad_by_freq_with_sparse_is_rejected():
    # torch 2.13 accepts the combination and fails in backward; minigrad fails at once, same message
    w = minigrad.tensor(np.ones((4, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse"):
        F.embedding(minigrad.tensor([1]), w, scale_grad_by_freq=True, sparse=True)
    tw = torch.ones(4, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse"):
        torch.nn.functional.embedding(torch.tensor([1]), tw, scale_grad_by_freq=True, sparse=True).sum().backward()


@given(
    st.integers(1, 6), st.integers(1, 4), st.lists(st.integers(0, 5), max_size=8),
    st.sampled_from([0.5, 1.0, 2.0]), st.sampled_from([1.0, 2.0, 3.0, float("inf")]), st.integers(0, 2**31 - 1),
)
def test_max_norm_renormalises_looked_up_rows_in_place_like_torch(v, d, values, max_norm, p, seed):
    idx = np.array([x % v for x in values], dtype=np.int64)
    w_data = _w(np.random.default_rng(seed), v, d) * 2
    tw = torch.tensor(w_data, requires_grad=True)
    t_out = torch.nn.functional.embedding(torch.from_numpy(idx), tw, max_norm=max_norm, norm_type=p)
    w = minigrad.tensor(w_data, requires_grad=True)
    v0 = w._version
    out = F.embedding(minigrad.tensor(idx), w, max_norm=max_norm, norm_type=p)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert w._version > v0 or idx.size == 0
    out.backward(minigrad.tensor(np.ones(out.shape)))
    t_out.backward(torch.ones(t_out.shape, dtype=torch.float64))
    np.testing.assert_allclose(w.grad.detach().numpy(), tw.grad.detach().numpy())


def test_max_norm_invalidates_an_earlier_graph_that_saved_the_weight():
    emb = nn.Embedding(4, 3, max_norm=0.1).double()
    logits = minigrad.randn(2, 3, dtype=np.float64) @ emb.weight.T  # saves the weight
    emb(minigrad.tensor([0, 1]))  # renormalises rows 0 and 1 in place
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        logits.sum().backward()


def test_max_norm_works_under_no_grad_and_on_frozen_weights():
    emb = nn.Embedding.from_pretrained(minigrad.tensor(np.full((3, 2), 10.0)), max_norm=1.0)
    with minigrad.no_grad():
        emb(minigrad.tensor([1]))
    np.testing.assert_allclose(np.linalg.norm(emb.weight.detach().numpy()[1]), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(emb.weight.detach().numpy()[0], [10.0, 10.0])


def test_sparse_gradients_accumulate_with_sparse_and_dense_gradients():
    emb = nn.Embedding(6, 2, sparse=True).double()
    emb(minigrad.tensor([1, 2])).sum().backward()
    emb(minigrad.tensor([2, 5])).sum().backward()
    g = emb.weight.grad
    assert isinstance(g, SparseTensor)
    assert g._nnz() == 4  # uncoalesced: concatenated, like torch
    np.testing.assert_array_equal(g.to_dense().detach().numpy()[:, 0], [0, 1, 2, 0, 0, 1])
    # a dense gradient on top (the weight used elsewhere) turns the sum dense
    (emb.weight * 3).sum().backward()
    assert not getattr(emb.weight.grad, "is_sparse", False)
    np.testing.assert_array_equal(emb.weight.grad.detach().numpy()[:, 0], [3, 4, 5, 3, 3, 4])


def test_sparse_gradient_with_one_index_and_one_column_is_not_zeroed():
    # torch 2.13 densifies this case to zeros; minigrad must not copy that bug
    emb = nn.Embedding(3, 1, sparse=True).double()
    emb(minigrad.tensor([2])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.to_dense().detach().numpy()[:, 0], [0.0, 0.0, 1.0])


def test_sparse_gradient_values_do_not_alias_the_output_gradient():
    w = minigrad.tensor(np.zeros((3, 2)), requires_grad=True)
    cot = np.ones((2, 2))
    F.embedding(minigrad.tensor([0, 1]), w, sparse=True).backward(minigrad.tensor(cot))
    w.grad.mul_(5.0)
    np.testing.assert_array_equal(cot, 1.0)


def test_index_shapes_zero_d_and_empty():
    emb = nn.Embedding(4, 3)
    assert emb(minigrad.tensor(2)).shape == (3,)
    assert emb(minigrad.tensor(np.zeros((0,), np.int64))).shape == (0, 3)
    assert emb(minigrad.tensor(np.zeros((2, 0), np.int32))).shape == (2, 0, 3)


@pytest.mark.parametrize("bad", [[4], [-1], [0, 7]])
def test_out_of_range_and_negative_indices_raise_index_error(bad):
    emb = nn.Embedding(4, 3)
    with pytest.raises(IndexError):
        emb(minigrad.tensor(bad))
    with pytest.raises(IndexError):
        torch.nn.Embedding(4, 3)(torch.tensor(bad))


@pytest.mark.parametrize("idx", [np.array([1.0, 2.0]), np.array([True, False]), np.array([1, 2], np.uint8)])
def test_float_bool_and_uint8_indices_raise_pytorchs_runtime_error(idx):
    with pytest.raises(RuntimeError, match="Long, Int"):
        nn.Embedding(4, 3)(minigrad.tensor(idx))


def test_weight_not_2d_is_an_error_naming_the_shape():
    with pytest.raises(RuntimeError, match=r"'weight' must be 2-D.*\(3,\)"):
        F.embedding(minigrad.tensor([0]), minigrad.ones(3))


@pytest.mark.parametrize("pad", [5, -6, 100])
def test_padding_idx_outside_range_is_an_assertion_error(pad):
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=pad)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        torch.nn.Embedding(5, 2, padding_idx=pad)


def test_negative_padding_idx_is_normalised():
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    assert torch.nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


def test_init_is_standard_normal_and_seeded():
    minigrad.manual_seed(0)
    a = nn.Embedding(200, 50).weight.detach().numpy().copy()
    minigrad.manual_seed(0)
    b = nn.Embedding(200, 50).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean()) < 0.02 and abs(a.std() - 1) < 0.02
    assert a.dtype == np.float32


def test_from_pretrained_shares_storage_freezes_and_keeps_padding_row():
    data = minigrad.tensor(np.arange(6.0).reshape(3, 2))
    emb = nn.Embedding.from_pretrained(data, padding_idx=1)
    assert not emb.weight.requires_grad
    assert np.shares_memory(emb.weight.detach().numpy(), data.detach().numpy())
    np.testing.assert_array_equal(emb.weight.detach().numpy()[1], [2.0, 3.0])
    trainable = nn.Embedding.from_pretrained(data, freeze=False, padding_idx=1)
    trainable(minigrad.tensor([1, 2])).sum().backward()
    np.testing.assert_array_equal(trainable.weight.grad.detach().numpy()[:, 0], [0.0, 0.0, 1.0])
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(minigrad.ones(3))


def test_embedding_repr_matches_torch():
    for kw in [{}, {"padding_idx": 0}, {"max_norm": 1.0, "sparse": True}, {"scale_grad_by_freq": True}]:
        assert repr(nn.Embedding(10, 3, **kw)) == repr(torch.nn.Embedding(10, 3, **kw))


def test_embedding_docstring_teaches_gather_index_add_and_one_hot():
    doc = nn.Embedding.__doc__
    for phrase in ("gather", "index-add", "one_hot", "O(n·D)", "discrete", "Linear"):
        assert phrase in doc


# -- EmbeddingBag ----------------------------------------------------------------------------
@st.composite
def bags(draw):
    """(V, D, flat idx, offsets, include_last_offset) with empty bags and duplicates."""
    v = draw(st.integers(1, 7))
    d = draw(st.integers(1, 4))
    n = draw(st.integers(0, 10))
    idx = np.array(draw(st.lists(st.integers(0, v - 1), min_size=n, max_size=n)), dtype=np.int64)
    cuts = sorted(draw(st.lists(st.integers(0, n), min_size=0, max_size=5)))
    include_last = draw(st.booleans())
    offsets = [0] + cuts
    if include_last:
        # the last offset closes the last bag; torch's results for a last offset < n differ
        # between modes (minigrad leaves the entries after it out of every bag)
        offsets = offsets + [n]
    return v, d, idx, np.array(offsets, dtype=np.int64), include_last


def _torch_bag_via_embedding(idx, w, offsets, include_last, mode, per_sample_weights, padding_idx, scale_grad_by_freq,
                             **_):
    """Reference EmbeddingBag (sum/mean) from torch's Embedding and a loop over bags.

    Used for scale_grad_by_freq: torch 2.13's embedding_bag scales some rows'
    gradients by another row's count (e.g. input [1, 0, 0] gives row 1 the
    factor 1/2), while its Embedding divides each row by its own count.
    """
    flat = idx.reshape(-1)
    if idx.dim() == 2:
        starts = list(range(0, flat.numel(), idx.shape[1]))
        ends = [s + idx.shape[1] for s in starts]
    else:
        o = offsets.tolist()
        starts, ends = (o[:-1], o[1:]) if include_last else (o, o[1:] + [flat.numel()])
    rows = torch.nn.functional.embedding(flat, w, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)
    keep = torch.ones(flat.shape, dtype=torch.bool) if padding_idx is None else flat != padding_idx % w.shape[0]
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    rows = rows * keep.reshape(-1, 1)
    bags = []
    for s, e in zip(starts, ends):
        total = rows[s:e].sum(0)
        if mode == "mean":
            total = total / max(int(keep[s:e].sum()), 1)
        bags.append(total)
    return torch.stack(bags) if bags else torch.zeros(0, w.shape[1], dtype=w.dtype)


def _bag_pair(case, mode, padding_idx, psw, scale, sparse, seed, two_d=False, dtype=np.float64):
    v, d, idx, offsets, include_last = case
    rng = np.random.default_rng(seed)
    w_data = _w(rng, v, d, dtype)
    if padding_idx is not None and not -v <= padding_idx < v:
        padding_idx = None
    if two_d:
        idx = idx[: (idx.size // 2) * 2].reshape(-1, 2)
        offsets, include_last = None, False
    psw_data = rng.standard_normal(idx.shape).astype(dtype) if psw else None
    results = []
    for lib in (minigrad, torch):
        w = lib.tensor(w_data, requires_grad=True)
        p = lib.tensor(psw_data, requires_grad=True) if psw else None
        fn = F.embedding_bag if lib is minigrad else torch.nn.functional.embedding_bag
        if lib is torch and scale:
            fn = lambda i, w, o, **kw: _torch_bag_via_embedding(i, w, o, kw.pop("include_last_offset"), **kw)  # noqa: E731
        out = fn(
            lib.tensor(idx), w, None if offsets is None else lib.tensor(offsets), mode=mode,
            per_sample_weights=p, include_last_offset=include_last, padding_idx=padding_idx,
            scale_grad_by_freq=scale, sparse=sparse,
        )
        cot = np.random.default_rng(seed + 1).standard_normal(tuple(out.shape)).astype(dtype)
        out.backward(lib.tensor(cot))
        g = w.grad
        g = None if g is None else (g.to_dense() if getattr(g, "is_sparse", False) else g)
        results.append((out.detach().numpy(), None if g is None else g.detach().numpy(), None if p is None else p.grad.detach().numpy()))
    return results


@given(
    bags(), st.sampled_from(["sum", "mean", "max"]), st.sampled_from([None, 0, 2]), st.booleans(), st.booleans(),
    st.booleans(), st.booleans(), st.integers(0, 2**31 - 1),
)
def test_embedding_bag_matches_torch(case, mode, padding_idx, psw, scale, sparse, two_d, seed):
    if mode != "sum":
        psw = False
    if mode == "max" or (scale and sparse):
        scale = sparse = False
    (out, gw, gp), (t_out, t_gw, t_gp) = _bag_pair(case, mode, padding_idx, psw, scale, sparse, seed, two_d)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, t_gw, rtol=1e-12, atol=1e-12)
    if psw:
        np.testing.assert_allclose(gp, t_gp, rtol=1e-12, atol=1e-12)


@given(bags(), st.sampled_from(["sum", "mean", "max"]), st.integers(0, 2**31 - 1))
def test_embedding_bag_float32_matches_torch(case, mode, seed):
    (out, gw, _), (t_out, t_gw, _) = _bag_pair(case, mode, None, False, False, False, seed, dtype=np.float32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, t_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gw, t_gw, rtol=1e-5, atol=1e-6)


def test_embedding_bag_trailing_empty_bags_do_not_cut_the_bag_before_them():
    w = minigrad.tensor(np.array([[1.0], [10.0]]), requires_grad=True)
    out = F.embedding_bag(minigrad.tensor([0, 1]), w, minigrad.tensor([0, 2, 2]), mode="sum")
    np.testing.assert_array_equal(out.detach().numpy(), [[11.0], [0.0], [0.0]])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.detach().numpy(), [[1.0], [1.0]])


def test_embedding_bag_scale_grad_by_freq_divides_each_row_by_its_own_count():
    w = minigrad.tensor(np.zeros((2, 1)), requires_grad=True)
    F.embedding_bag(minigrad.tensor([1, 0, 0]), w, minigrad.tensor([0]), mode="sum", scale_grad_by_freq=True).sum().backward()
    np.testing.assert_array_equal(w.grad.detach().numpy(), [[1.0], [1.0]])  # as Embedding; torch 2.13 gives row 1 0.5


def test_embedding_bag_empty_bags_are_zero_in_every_mode():
    w = minigrad.tensor(np.arange(12.0).reshape(4, 3) + 1)
    for mode in ("sum", "mean", "max"):
        out = F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([0, 0, 2]), mode=mode)
        np.testing.assert_array_equal(out.detach().numpy()[[0, 2]], 0.0)


def test_embedding_bag_max_sends_gradient_to_the_first_argmax_on_ties():
    w = minigrad.tensor(np.array([[1.0, 5.0], [1.0, 2.0], [0.0, 5.0]]), requires_grad=True)
    F.embedding_bag(minigrad.tensor([2, 0, 1]), w, minigrad.tensor([0]), mode="max").sum().backward()
    # dim 0: rows 0 and 1 tie at 1.0 -> row 0 (first in the bag); dim 1: rows 2, 0 tie -> row 2
    np.testing.assert_array_equal(w.grad.detach().numpy(), [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])


def test_embedding_bag_mean_ignores_padding_entries_in_the_count():
    w = minigrad.tensor(np.array([[0.0, 0.0], [2.0, 4.0], [6.0, 8.0]]))
    out = F.embedding_bag(minigrad.tensor([[1, 0, 2]]), w, mode="mean", padding_idx=0)
    np.testing.assert_array_equal(out.detach().numpy(), [[4.0, 6.0]])


def test_embedding_bag_module_and_repr():
    bag = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=1)
    assert repr(bag) == repr(torch.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=1))
    assert (bag.weight.detach().numpy()[1] == 0).all()
    out = bag(minigrad.tensor([1, 2, 3]), minigrad.tensor([0, 2]))
    assert out.shape == (2, 3)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda w: F.embedding_bag(minigrad.tensor([1, 7]), w, minigrad.tensor([0])), IndexError,
         r"Index 1 of input takes value 7 which is not in the valid range \[0, 6\)"),
        (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([1])), RuntimeError, "offsets\\[0\\] has to be 0"),
        (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([0, 3])), RuntimeError,
         "can not be greater than input's length 2"),
        (lambda w: F.embedding_bag(minigrad.tensor([1, 2, 3]), w, minigrad.tensor([0, 2, 1])), RuntimeError, "non-decreasing"),
        (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w), ValueError, "offsets has to be a 1D Tensor but got None"),
        (lambda w: F.embedding_bag(minigrad.tensor([[1, 2]]), w, minigrad.tensor([0])), ValueError, "if input is 2D"),
        (lambda w: F.embedding_bag(minigrad.tensor([1, 2]), w, minigrad.tensor([[0]])), ValueError, "offsets has to be a 1D Tensor"),
        (lambda w: F.embedding_bag(minigrad.tensor([[[1]]]), w), ValueError, "input has to be 1D or 2D"),
        (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0]), mode="prod"), ValueError, "mode has to be one of"),
        (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0]), mode="mean",
                                   per_sample_weights=minigrad.ones(1, dtype=np.float64)), NotImplementedError, "only supported for mode='sum'"),
        (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0]), mode="sum",
                                   per_sample_weights=minigrad.ones(2, dtype=np.float64)), ValueError, "must have the same shape"),
        (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0]), mode="max", scale_grad_by_freq=True),
         ValueError, "max mode does not support scaling"),
        (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0]), mode="max", sparse=True),
         ValueError, "max mode does not support sparse"),
        (lambda w: F.embedding_bag(minigrad.tensor([1.0]), w, minigrad.tensor([0])), RuntimeError, "Long, Int"),
        (lambda w: F.embedding_bag(minigrad.tensor([1]), w, minigrad.tensor([0.0])), RuntimeError, "Long, Int"),
        (lambda w: F.embedding_bag(minigrad.tensor([[1]]), minigrad.ones(3)), ValueError, "weight has to be a 2D Tensor"),
    ],
)
def test_embedding_bag_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(minigrad.tensor(np.ones((6, 2))))


def test_embedding_bag_sparse_gradient_densifies_to_dense_gradient():
    idx, off = minigrad.tensor([1, 2, 1, 4]), minigrad.tensor([0, 1, 1])
    grads = []
    for sparse in (False, True):
        w = minigrad.tensor(np.ones((5, 2)), requires_grad=True)
        F.embedding_bag(idx, w, off, mode="mean", sparse=sparse).sum().backward()
        grads.append(w.grad.to_dense().detach().numpy() if sparse else w.grad.detach().numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_max_norm_with_embedding_bag_matches_torch():
    w_data = np.random.default_rng(1).standard_normal((5, 3)) * 3
    w, tw = minigrad.tensor(w_data), torch.tensor(w_data)
    out = F.embedding_bag(minigrad.tensor([0, 2, 2]), w, minigrad.tensor([0, 1]), max_norm=1.0)
    t_out = torch.nn.functional.embedding_bag(torch.tensor([0, 2, 2]), tw, torch.tensor([0, 1]), max_norm=1.0)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12)


def test_no_warnings_on_the_common_path():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emb = nn.Embedding(5, 2)
        emb(minigrad.tensor([[1, 2]])).sum().backward()


def test_coalesce_sorts_the_rows_and_sums_the_repeated_ones():
    vals = np.arange(10, dtype=np.float64).reshape(5, 2)
    g = SparseTensor(np.array([3, 0, 3, 1, 0]), vals.copy(), (5, 2))
    c = g.coalesce()
    assert c.is_coalesced() and not g.is_coalesced()
    np.testing.assert_array_equal(c.indices().numpy(), [[0, 1, 3]])
    np.testing.assert_array_equal(c.values().numpy(), [vals[1] + vals[4], vals[3], vals[0] + vals[2]])
    np.testing.assert_array_equal(c.dense_array(), g.dense_array())
    np.testing.assert_array_equal(g.values().numpy(), vals)  # the original is left as it was
    assert c.coalesce() is c


def test_coalesce_of_an_embeddings_sparse_gradient_has_one_row_per_looked_up_id():
    emb = nn.Embedding(6, 3, sparse=True)
    idx = minigrad.tensor([[4, 1, 4], [4, 0, 1]])
    emb(idx).sum().backward()
    c = emb.weight.grad.coalesce()
    np.testing.assert_array_equal(c.indices().numpy(), [[0, 1, 4]])
    np.testing.assert_array_equal(c.values().numpy(), np.repeat([[1.0], [2.0], [3.0]], 3, axis=1))


@pytest.mark.parametrize("lookup", ["torch-order", "functional", "module"])
def test_indices_changed_in_place_after_forward_make_backward_raise_like_torch(lookup):
    # The backward reads the saved indices: refilling the index tensor in place between
    # forward and backward would send the gradient to other rows, silently. PyTorch refuses.
    weight = minigrad.zeros(2, 1, requires_grad=True)
    idx = minigrad.tensor([0, 1])
    if lookup == "torch-order":
        out = minigrad.embedding(weight, idx)
    elif lookup == "functional":
        out = F.embedding(idx, weight)
    else:
        emb = minigrad.nn.Embedding(2, 1)
        weight = emb.weight
        out = emb(idx)
    with minigrad.no_grad():
        idx.copy_(minigrad.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward(minigrad.tensor([[0.3], [-0.7]]))
