"""Comparisons, value tests and logical reductions (``minigrad.ops.comparison``), and the
integer halves of ``//`` and ``%``, against PyTorch. None of these is differentiable, so
they are checked here rather than in the op table."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad

SPECIAL = st.sampled_from([-2.0, -0.5, 0.0, 1.0, 3.0, np.nan, np.inf, -np.inf])
DTYPES = [np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_]


@st.composite
def operand_pairs(draw):
    sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    a = draw(hnp.arrays(np.float64, sa, elements=SPECIAL))
    b = draw(hnp.arrays(np.float64, sb, elements=SPECIAL))
    da, db = draw(st.sampled_from(DTYPES)), draw(st.sampled_from(DTYPES))
    with np.errstate(invalid="ignore"):
        if np.dtype(da).kind != "f":
            a = np.nan_to_num(np.abs(a) if da is np.uint8 else a, posinf=5, neginf=-5).astype(da)
        if np.dtype(db).kind != "f":
            b = np.nan_to_num(np.abs(b) if db is np.uint8 else b, posinf=5, neginf=-5).astype(db)
    return a.astype(da), b.astype(db)


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
@settings(max_examples=40)
@given(pair=operand_pairs(), scalar=st.booleans())
def test_comparisons_match_pytorch_as_functions_methods_and_operators(name, pair, scalar):
    a, b = pair
    if scalar:
        b = float(b.flat[0]) if b.size and b.dtype.kind == "f" else 2
    mb = minigrad.tensor(b) if isinstance(b, np.ndarray) else b
    tb = torch.tensor(b) if isinstance(b, np.ndarray) else b
    want = getattr(torch, name)(torch.tensor(a), tb).numpy()
    for got in (getattr(minigrad, name)(minigrad.tensor(a), mb), getattr(minigrad.tensor(a), name)(mb)):
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got.numpy(), want)


def test_comparison_operators_call_the_functions_and_refuse_shapes_that_do_not_broadcast():
    x = minigrad.tensor([1.0, 2.0, 3.0])
    assert (x >= 2).tolist() == [False, True, True] and (x != 2).tolist() == [True, False, True]
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(2\)"):
        minigrad.eq(x, minigrad.tensor([1.0, 2.0]))


@settings(max_examples=40)
@given(pair=operand_pairs(), equal_nan=st.booleans())
def test_isclose_allclose_and_equal_match_pytorch(pair, equal_nan):
    a, b = pair
    b = b.astype(a.dtype) if a.dtype.kind == "f" else b
    ma, mb, ta, tb = minigrad.tensor(a), minigrad.tensor(b), torch.tensor(a), torch.tensor(b)
    if a.dtype == b.dtype and a.dtype.kind == "f":
        np.testing.assert_array_equal(minigrad.isclose(ma, mb, equal_nan=equal_nan).numpy(),
                                      torch.isclose(ta, tb, equal_nan=equal_nan).numpy())
        assert minigrad.allclose(ma, mb, equal_nan=equal_nan) == torch.allclose(ta, tb, equal_nan=equal_nan)
    assert minigrad.equal(ma, mb) == torch.equal(ta, tb)
    assert ma.equal(ma) == torch.equal(ta, ta)


def test_allclose_of_two_dtypes_is_pytorchs_error():
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        minigrad.allclose(minigrad.tensor([1.0]), minigrad.tensor([1.0], dtype=minigrad.float64))


@settings(max_examples=30)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), elements=SPECIAL))
def test_isnan_isinf_isfinite_match_pytorch(x):
    for name in ("isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(minigrad, name)(minigrad.tensor(x)).numpy(),
                                      getattr(torch, name)(torch.tensor(x)).numpy())
        np.testing.assert_array_equal(getattr(minigrad.tensor(x), name)().numpy(), getattr(torch, name)(torch.tensor(x)).numpy())


@pytest.mark.parametrize("name", ["all", "any"])
@settings(max_examples=40)
@given(data=st.data(), dtype=st.sampled_from(DTYPES))
def test_all_and_any_match_pytorch_over_dims_and_dtypes(name, data, dtype):
    x = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
                             elements=st.sampled_from([0.0, 1.0, 2.0, np.nan]))).astype(dtype) if dtype in (np.float64, np.float32) \
        else data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), elements=st.integers(0, 1)))
    kw = {}
    if x.ndim and data.draw(st.booleans()):
        dims = data.draw(st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True))
        kw = {"dim": dims[0] if len(dims) == 1 else tuple(dims), "keepdim": data.draw(st.booleans())}
    got = getattr(minigrad, name)(minigrad.tensor(x), **kw)
    want = getattr(torch, name)(torch.tensor(x), **kw)
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(getattr(minigrad.tensor(x), name)(**kw).numpy(), want.numpy())


@settings(max_examples=40)
@given(a=hnp.arrays(np.int64, 4, elements=st.integers(-9, 9)), b=hnp.arrays(np.int64, 4, elements=st.integers(-4, 4)),
       dtype=st.sampled_from([np.int64, np.int32, np.float64]))
def test_floor_division_and_remainders_of_integers_match_pytorch(a, b, dtype):
    a, b = a.astype(dtype), b.astype(dtype)
    ma, mb, ta, tb = minigrad.tensor(a), minigrad.tensor(b), torch.tensor(a), torch.tensor(b)
    for mg, th in ((lambda x, y: x // y, lambda x, y: x // y), (lambda x, y: x % y, lambda x, y: x % y),
                   (minigrad.fmod, torch.fmod), (lambda x, y: 7 // y, lambda x, y: 7 // y)):
        try:
            want = th(ta, tb)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                mg(ma, mb)
            continue
        got = mg(ma, mb)
        assert got.dtype.name == str(want.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_floor_division_records_no_gradient_as_pytorch_defines_none():
    x = minigrad.tensor([3.5, -2.5], requires_grad=True)
    assert not (x // 2).requires_grad
