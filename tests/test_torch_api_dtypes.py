"""dtypes as PyTorch programs see them: printed, compared, passed to factories and ``to``.

A minigrad dtype prints as PyTorch's with ``minigrad`` for ``torch``, compares
equal to itself and to its NumPy dtype, and NumPy takes it as a dtype.
"""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import minigrad

NAMES = ["float32", "float", "float64", "double", "float16", "half", "int64", "long", "int32", "int",
         "int16", "short", "int8", "uint8", "uint16", "uint32", "uint64", "bool"]


@pytest.mark.parametrize("name", NAMES)
def test_a_dtype_prints_as_pytorchs_with_minigrad_for_torch(name):
    ours, theirs = getattr(minigrad, name), getattr(torch, name)
    assert str(ours).replace("minigrad", "torch") == str(theirs)
    assert repr(ours).replace("minigrad", "torch") == repr(theirs)
    assert ours.is_floating_point == theirs.is_floating_point
    assert ours.is_complex == theirs.is_complex
    assert ours.is_signed == theirs.is_signed
    assert ours.itemsize == theirs.itemsize


@pytest.mark.parametrize("name", ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"])
def test_a_tensors_dtype_and_repr_read_as_pytorchs(name):
    values = [1, 0] if name != "bool" else [True, False]
    ours = minigrad.tensor(values, dtype=getattr(minigrad, name))
    theirs = torch.tensor(values, dtype=getattr(torch, name))
    assert str(ours.dtype).replace("minigrad", "torch") == str(theirs.dtype)
    assert repr(ours).replace("minigrad", "torch") == repr(theirs)
    assert ours.dtype == getattr(minigrad, name) and ours.dtype is getattr(minigrad, name)
    empty = minigrad.zeros(0, dtype=getattr(minigrad, name))
    assert repr(empty).replace("minigrad", "torch") == repr(torch.zeros(0, dtype=getattr(torch, name)))


def test_aliases_are_the_same_object_and_dtypes_differ_from_each_other():
    assert minigrad.float is minigrad.float32 and minigrad.double is minigrad.float64
    assert minigrad.long is minigrad.int64 and minigrad.int is minigrad.int32 and minigrad.half is minigrad.float16
    assert minigrad.float32 != minigrad.float64 and not (minigrad.int64 == minigrad.int32)
    assert len({minigrad.float32, minigrad.float, minigrad.float64}) == 2


def test_a_dtype_compares_and_hashes_as_its_numpy_dtype():
    f32 = minigrad.float32
    assert f32 == np.dtype("float32") and np.dtype("float32") == f32
    assert f32 == np.float32 and np.float32 == f32 and f32 == "float32"
    assert f32 != np.float64 and f32 != minigrad.int32
    assert f32 != None and f32 != "not a dtype" and f32 != 3  # noqa: E711 (np.dtype(None) would be float64)
    assert hash(f32) == hash(np.dtype("float32"))
    assert {np.dtype("float32"): "found"}[f32] == "found"
    assert f32 in (np.float64, np.float32)


def test_numpy_takes_a_minigrad_dtype_wherever_it_takes_a_dtype():
    assert np.dtype(minigrad.int64) == np.dtype("int64")
    assert np.zeros(2, dtype=minigrad.float16).dtype == np.float16
    assert np.arange(3).astype(minigrad.float64).dtype == np.float64
    assert np.result_type(minigrad.float32, np.float64) == np.float64
    assert np.issubdtype(minigrad.int32, np.integer) and np.finfo(minigrad.float32).bits == 32
    assert minigrad.float32.kind == "f" and minigrad.int8.name == "int8" and minigrad.float64.type is np.float64


def test_a_dtype_survives_pickle_and_copy_as_the_same_object():
    for d in (minigrad.float32, minigrad.int64, minigrad.bool):
        assert pickle.loads(pickle.dumps(d)) is d
        assert copy.copy(d) is d and copy.deepcopy(d) is d


@pytest.mark.parametrize("dtype", [minigrad.float64, np.float64, np.dtype("float64"), "float64"],
                         ids=["minigrad", "numpy-type", "numpy-dtype", "string"])
def test_factories_and_to_take_minigrad_and_numpy_dtypes(dtype):
    made = [minigrad.zeros(2, dtype=dtype), minigrad.ones(2, 2, dtype=dtype), minigrad.tensor([1, 2], dtype=dtype),
            minigrad.full((2,), 3, dtype=dtype), minigrad.arange(3, dtype=dtype), minigrad.randn(2, dtype=dtype),
            minigrad.zeros(2).new_zeros(2, dtype=dtype), minigrad.zeros(2).to(dtype=dtype)]
    if not isinstance(dtype, str):  # to("float64") reads a device name, in PyTorch too
        made += [minigrad.zeros(2).to(dtype), minigrad.zeros(2).to("cpu", dtype)]
    for t in made:
        assert t.dtype is minigrad.float64


def test_to_between_floating_dtypes_stays_differentiable():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(minigrad.float64)
    assert y.dtype is minigrad.float64 and x.to(minigrad.float32) is x
    (y * y).sum().backward()
    assert x.grad.dtype is minigrad.float32 and x.grad.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("name", ["float32", "float64", "float16"])
def test_finfo_matches_pytorch(name):
    ours, theirs = minigrad.finfo(getattr(minigrad, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert repr(ours) == repr(theirs)
    assert repr(minigrad.finfo()) == repr(torch.finfo())
    assert minigrad.finfo(np.float64).eps == torch.finfo(torch.float64).eps


@pytest.mark.parametrize("name", ["int64", "int32", "int16", "int8", "uint8"])
def test_iinfo_matches_pytorch(name):
    ours, theirs = minigrad.iinfo(getattr(minigrad, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.max, ours.min, ours.dtype) == (theirs.bits, theirs.max, theirs.min, theirs.dtype)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("call", [lambda lib: lib.finfo(lib.int64), lambda lib: lib.iinfo(lib.float32),
                                  lambda lib: lib.iinfo(lib.bool)], ids=["finfo-int", "iinfo-float", "iinfo-bool"])
def test_finfo_and_iinfo_refuse_the_other_kind_as_pytorch(call):
    messages = []
    for lib in (minigrad, torch):
        with pytest.raises(TypeError) as err:
            call(lib)
        messages.append(str(err.value))
    assert messages[0].replace("minigrad", "torch") == messages[1]
