"""Devices as PyTorch programs use them: ``device``, ``device=``, ``.to``, ``.cpu``, ``cuda.is_available``.

minigrad has only the CPU: device objects parse and compare as PyTorch's do,
every factory and ``to`` accepts the CPU, and any other device is a clear error.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad
from minigrad import nn


@pytest.mark.parametrize("args", [("cpu",), ("cpu:0",), ("cpu", 0), ("cuda",), ("cuda:1",), ("mps",), ("meta",)])
def test_device_parses_reprs_and_compares_as_in_pytorch(args):
    ours, theirs = minigrad.device(*args), torch.device(*args)
    assert (ours.type, ours.index, repr(ours), str(ours)) == (theirs.type, theirs.index, repr(theirs), str(theirs))
    assert ours == minigrad.device(str(ours)) and hash(ours) == hash(minigrad.device(str(ours)))
    assert minigrad.device(ours) == ours


def test_device_equality_follows_pytorch():
    cpu = minigrad.device("cpu")
    assert (cpu == "cpu") == (torch.device("cpu") == "cpu")  # a device is not equal to a string in either
    assert (cpu == minigrad.device("cpu:0")) == (torch.device("cpu") == torch.device("cpu:0"))
    assert minigrad.zeros(1).device == cpu and str(minigrad.zeros(1).device) == "cpu"
    assert minigrad.zeros(1).is_cuda is False


@pytest.mark.parametrize("make", [
    lambda lib: lib.device("cpu", -1),
    lambda lib: lib.device("cpu:x"),
    lambda lib: lib.device("cpu:"),
    lambda lib: lib.device("gpu"),
    lambda lib: lib.device(0),
])
def test_device_errors_match_pytorch(make):
    with pytest.raises(Exception) as want:
        make(torch)
    with pytest.raises(type(want.value)) as got:
        make(minigrad)
    assert str(got.value) == str(want.value)


FACTORIES = [
    lambda lib, **kw: lib.zeros(2, 3, **kw),
    lambda lib, **kw: lib.ones(2, **kw),
    lambda lib, **kw: lib.empty(2, **kw),
    lambda lib, **kw: lib.full((2,), 1.5, **kw),
    lambda lib, **kw: lib.arange(4, **kw),
    lambda lib, **kw: lib.linspace(0, 1, 3, **kw),
    lambda lib, **kw: lib.eye(2, **kw),
    lambda lib, **kw: lib.rand(2, **kw),
    lambda lib, **kw: lib.randn(2, **kw),
    lambda lib, **kw: lib.randint(0, 3, (2,), **kw),
    lambda lib, **kw: lib.randperm(3, **kw),
    lambda lib, **kw: lib.tensor([1.0], **kw),
    lambda lib, **kw: lib.as_tensor([1.0], **kw),
    lambda lib, **kw: lib.zeros_like(lib.ones(2), **kw),
    lambda lib, **kw: lib.ones_like(lib.ones(2), **kw),
    lambda lib, **kw: lib.full_like(lib.ones(2), 3.0, **kw),
    lambda lib, **kw: lib.rand_like(lib.ones(2), **kw),
    lambda lib, **kw: lib.randn_like(lib.ones(2), **kw),
]


@pytest.mark.parametrize("make", FACTORIES)
def test_every_factory_takes_the_cpu_and_refuses_other_devices(make):
    for dev in ("cpu", "cpu:0", minigrad.device("cpu"), None):
        assert make(minigrad, device=dev).device == minigrad.device("cpu")
    for dev in ("cuda", "cuda:0", minigrad.device("mps")):
        with pytest.raises(RuntimeError, match="minigrad runs on the CPU only"):
            make(minigrad, device=dev)


def test_tensor_to_takes_pytorchs_forms():
    x = minigrad.tensor([1.5, 2.5], requires_grad=True)
    assert x.to("cpu") is x and x.to(minigrad.device("cpu")) is x and x.to(minigrad.float32) is x and x.cpu() is x
    assert x.to(device="cpu", dtype=minigrad.float32) is x
    y = x.to("cpu", minigrad.float64)
    assert y.dtype == minigrad.float64 and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    assert x.to(minigrad.zeros(1, dtype=minigrad.int64)).dtype == minigrad.int64
    assert x.to(dtype=minigrad.float64).dtype == minigrad.float64
    c = x.to("cpu", copy=True)
    assert c is not x and not np.shares_memory(c.detach().numpy(), x.detach().numpy()) and c.tolist() == x.tolist()
    assert not np.shares_memory(x.detach().to(minigrad.float32, False, True).numpy(), x.detach().numpy())  # (non_blocking, copy) positionally


@pytest.mark.parametrize("call", [
    lambda x: x.to("cuda"),
    lambda x: x.to("mps", minigrad.float64),
    lambda x: x.to(device="cuda:0"),
    lambda x: x.cuda(),
])
def test_tensor_to_another_device_is_a_clear_error(call):
    with pytest.raises(RuntimeError, match="minigrad runs on the CPU only: device '(cuda|mps)(:0)?' is not available"):
        call(minigrad.zeros(2))


def test_to_with_a_dtype_string_is_an_invalid_device_as_in_pytorch():
    with pytest.raises(RuntimeError) as want:
        torch.zeros(2).to("float64")
    with pytest.raises(RuntimeError) as got:
        minigrad.zeros(2).to("float64")
    assert "float64" in str(got.value) and type(got.value) is type(want.value)


def test_module_to_takes_devices_dtypes_and_tensors():
    m = nn.Linear(2, 3)
    assert m.to("cpu") is m and m.to(minigrad.device("cpu")) is m and m.cpu() is m
    assert m.to("cpu", minigrad.float64).weight.dtype == minigrad.float64
    assert m.to(minigrad.zeros(1)).weight.dtype == minigrad.float32
    assert m.to(dtype=minigrad.float64).bias.dtype == minigrad.float64
    with pytest.raises(RuntimeError, match="minigrad runs on the CPU only"):
        m.to("cuda")
    with pytest.raises(RuntimeError, match="minigrad runs on the CPU only"):
        m.cuda()
    with pytest.raises(TypeError, match=r"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=minigrad.int64"):
        m.to(minigrad.int64)


def test_accelerator_queries_answer_as_a_cpu_only_pytorch_build():
    assert minigrad.cuda.is_available() is torch.cuda.is_available() is False
    assert minigrad.cuda.device_count() == 0
    assert minigrad.backends.mps.is_available() is False and minigrad.backends.mps.is_built() is False
    assert minigrad.backends.cudnn.is_available() is False
    minigrad.cuda.manual_seed(0)
    minigrad.cuda.manual_seed_all(0)
    device = minigrad.device("cuda" if minigrad.cuda.is_available() else "cpu")
    assert minigrad.randn(2, device=device).device == device


def test_generator_lives_on_the_cpu():
    assert minigrad.Generator().device == minigrad.device("cpu")
    with pytest.raises(RuntimeError, match="minigrad runs on the CPU only"):
        minigrad.Generator("cuda")
