"""What users see and the spellings they bring: printing as PyTorch prints, ``f'{loss:.4f}'``, legacy constructors."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import minigrad


def both(make):
    return make(minigrad), make(torch)


PRINTED = [
    -84606.2422, 100000.0, 1e8, 1e9, 0.1, 3.0, -0.0, [], [0.0], [1e-5], [0.0, float("nan")],
    [1.0, 10000.0], [1.0, 1e9], [1.5, 1e9], [0.00001, 1.0], [1234.5678, 2.5], [123456789.5], [-1e-5, 2.0],
    [[1.0, 2.0], [30.0, 4.0]], [float("nan"), 1.5, float("inf")], [float("nan"), 1.0, float("inf")],
    [-0.5, 2000.25], [[1.5, -2.25], [3.0, 100.125]], [[0.1234, -0.5678]] * 3, [1e20, -1e-20],
]


@pytest.mark.parametrize("values", PRINTED, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_tensors_print_as_pytorch_prints_them(values, dtype):
    ours, theirs = both(lambda lib: lib.tensor(values, dtype=getattr(lib, dtype)))
    assert repr(ours) == repr(theirs).replace("torch.", "minigrad.")


@pytest.mark.parametrize("values", [True, [True], [[True], [True]], [True, False], [[False], [True]], []], ids=str)
def test_bool_tensors_print_as_pytorch_prints_them(values):
    ours, theirs = both(lambda lib: lib.tensor(values, dtype=lib.bool))
    assert repr(ours) == repr(theirs).replace("torch.", "minigrad.")


def test_a_random_matrix_prints_as_in_pytorch():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32) * 100
    assert repr(minigrad.tensor(x)) == repr(torch.tensor(x))


def test_tensor_of_python_floats_with_a_float64_dtype_keeps_double_precision():
    ours, theirs = both(lambda lib: lib.tensor([1234.5678, 0.1], dtype=lib.float64))
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())


@pytest.mark.parametrize("spec", [".4f", ".2e", ">10.3f", "", "g"])
@pytest.mark.parametrize("value", [1.5, -84606.2422, 3])
def test_format_of_a_0d_tensor_formats_its_value(spec, value):
    ours, theirs = both(lambda lib: lib.tensor(value))
    assert format(ours, spec) == format(theirs, spec) == format(value if spec else theirs.item(), spec)
    loss = minigrad.tensor(value) * 2
    assert f"{loss:{spec}}" == format(loss.item(), spec)


def test_format_of_a_tensor_with_dimensions_is_pytorchs():
    ours, theirs = both(lambda lib: lib.tensor([1.5]))
    assert f"{ours}" == f"{theirs}"
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{ours:.4f}"


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
                                  "CharTensor", "ByteTensor", "BoolTensor"])
@pytest.mark.parametrize("args", [((),), ([1, 0, 2],), ([1.7, 2.2],), ([[1, 2], [3, 4]],), ((2, 3),),
                                  (np.array([1.0, 2.0]),), (np.array([3, 1]),), ([True, False],)], ids=str)
def test_legacy_constructors_convert_data_as_pytorch(name, args):
    ours, theirs = both(lambda lib: getattr(lib, name)(*args))
    assert str(ours.dtype).replace("minigrad.", "torch.") == str(theirs.dtype)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())


def test_legacy_integer_constructors_truncate_towards_zero():
    ours, theirs = both(lambda lib: lib.LongTensor([-2.7, 2.7]))
    assert ours.tolist() == theirs.tolist() == [-2, 2]


@pytest.mark.parametrize("sizes", [(), (3,), (2, 3), (0, 4)])
def test_legacy_constructors_with_sizes_make_uninitialised_tensors(sizes):
    ours, theirs = both(lambda lib: lib.FloatTensor(*sizes))
    assert ours.shape == tuple(theirs.shape) and ours.dtype == minigrad.float32
    assert minigrad.LongTensor(*sizes).dtype == minigrad.int64


def test_legacy_constructor_of_a_tensor_returns_it_or_refuses_another_dtype():
    x = minigrad.tensor([1.0, 2.0])
    assert minigrad.FloatTensor(x) is x
    with pytest.raises(TypeError):
        torch.FloatTensor(torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="expected a tensor of dtype float32"):
        minigrad.FloatTensor(minigrad.tensor([1, 2]))


@pytest.mark.parametrize("make", [lambda lib: lib.FloatTensor(2.5), lambda lib: lib.LongTensor(-1)])
def test_legacy_constructor_errors_match_pytorch(make):
    with pytest.raises(Exception) as want:
        make(torch)
    with pytest.raises(type(want.value)) as got:
        make(minigrad)
    assert str(got.value) == str(want.value)


def test_legacy_constructors_answer_isinstance_by_dtype_and_take_a_cpu_device():
    for lib in (minigrad, torch):
        assert isinstance(lib.zeros(2), lib.FloatTensor) and not isinstance(lib.zeros(2), lib.LongTensor)
        assert isinstance(lib.tensor([1]), lib.LongTensor) and isinstance(lib.tensor([True]), lib.BoolTensor)
        assert not isinstance(np.zeros(2, dtype=np.float32), lib.FloatTensor)
    assert minigrad.FloatTensor([1.0], device="cpu").tolist() == [1.0]
    with pytest.raises(RuntimeError, match="minigrad runs on the CPU only"):
        minigrad.FloatTensor([1.0], device="cuda")


def test_type_names_and_converts_as_in_pytorch():
    x = minigrad.zeros(2)
    assert x.type() == "minigrad.FloatTensor" and torch.zeros(2).type() == "torch.FloatTensor"
    assert minigrad.tensor([1]).type() == "minigrad.LongTensor"
    for target in (minigrad.LongTensor, "minigrad.LongTensor", "torch.LongTensor", minigrad.int64):
        assert x.type(target).dtype == minigrad.int64
    with pytest.raises(ValueError, match="invalid type: 'minigrad.NoTensor'"):
        x.type("minigrad.NoTensor")


def test_shapes_print_as_pytorch_prints_them_and_still_compare_as_tuples():
    ours, theirs = both(lambda lib: lib.zeros(2, 3))
    for get in (lambda t: t.shape, lambda t: t.size(), lambda t: t.shape[1:], lambda t: t.shape + (4,),
                lambda t: (4,) + t.shape, lambda t: t.shape * 2, lambda t: t[0, 0].shape):
        assert repr(get(ours)) == repr(get(theirs)).replace("torch.", "minigrad.")
        assert str(get(ours)) == str(get(theirs)).replace("torch.", "minigrad.")
        assert get(ours) == tuple(get(theirs)) and hash(get(ours)) == hash(tuple(get(theirs)))
    assert ours.shape == (2, 3) and (ours.shape != [2, 3]) == (theirs.shape != [2, 3])
    rows, cols = ours.shape
    assert (rows, cols, ours.shape[-1], ours.size(1), ours.shape.numel()) == (2, 3, 3, 3, theirs.shape.numel())
    assert isinstance(ours.shape, tuple) and np.zeros(ours.shape).shape == (2, 3)


def test_size_construction_matches_pytorch():
    assert minigrad.Size([np.int64(2), 3]) == torch.Size([np.int64(2), 3]) == (2, 3)
    assert repr(minigrad.Size()) == "minigrad.Size([])"
    with pytest.raises(TypeError, match=r"minigrad.Size\(\) takes an iterable of 'int' \(item 0 is 'float'\)"):
        minigrad.Size([2.0])


def _random_values(rng):
    """Values of 1-3 dims and mixed magnitudes, integral or not (PyTorch's fixed/scientific choice)."""
    shape = tuple(rng.integers(1, 9, rng.integers(1, 4)))
    kind = rng.random()
    if kind < 0.3:
        return np.round(rng.standard_normal(shape) * 10.0 ** rng.integers(-9, 12, shape)) + 0.0
    if kind < 0.5:
        return rng.standard_normal(shape) * 10.0 ** rng.integers(-2, 4)
    return rng.standard_normal(shape) * 10.0 ** rng.integers(-9, 12, shape)


def _unwrapped_suffixes(text):
    return text.replace(",\n       ", ", ")


@pytest.mark.parametrize("seed", range(40))
def test_tensors_of_mixed_magnitudes_print_as_pytorch_prints_them_line_by_line(seed):
    rng = np.random.default_rng(seed)
    for _ in range(5):
        values = _random_values(rng)
        for dtype in ("float32", "float64"):
            ours, theirs = both(lambda lib: lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True) * 1)
            # Where a suffix starts a new line depends on the length of "torch." against "minigrad.".
            assert _unwrapped_suffixes(repr(ours)) == _unwrapped_suffixes(repr(theirs).replace("torch.", "minigrad."))


@pytest.mark.parametrize("seed", range(20))
def test_a_suffix_past_80_characters_starts_a_new_line_as_in_pytorch(seed):
    from torch._tensor_str import _add_suffixes  # PyTorch's rule, applied to minigrad's text

    rng = np.random.default_rng(100 + seed)
    for _ in range(5):
        values = _random_values(rng)
        text = repr(minigrad.tensor(values, dtype=minigrad.float64, requires_grad=True) * 1)
        head, *suffixes = re.split(r",\s+(?=dtype=|grad_fn=|requires_grad=)", text[:-1])
        assert text == _add_suffixes(head, suffixes, len("tensor("), False)
