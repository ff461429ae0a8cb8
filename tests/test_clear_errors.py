"""Inputs PyTorch refuses are refused with PyTorch's error class and message (not NumPy's
ZeroDivisionError or a TypeError where PyTorch raises RuntimeError); inputs PyTorch accepts
(empty tensors, float16 tables) are accepted with PyTorch's result."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
import minigrad.nn.functional as F

LIBS = {"minigrad": (minigrad, F), "torch": (torch, TF)}

# Each case: (name, call(lib, functional)).
REFUSED = [
    ("chunk(0)", lambda m, f: m.ones(3, 4).chunk(0)),
    ("chunk(-1)", lambda m, f: m.ones(3, 4).chunk(-1, 1)),
    ("split(0) of a non-empty dim", lambda m, f: m.ones(3, 4).split(0)),
    ("split(-1)", lambda m, f: m.ones(3, 4).split(-1)),
    ("arange with step 0", lambda m, f: m.arange(0, 5, 0)),
    ("arange with float step 0", lambda m, f: m.arange(0.0, 5.0, 0.0)),
    ("arange with the wrong step sign", lambda m, f: m.arange(0, 5, -1)),
    ("arange to inf", lambda m, f: m.arange(0, float("inf"))),
    ("arange to nan", lambda m, f: m.arange(0, float("nan"))),
    ("one_hot of floats", lambda m, f: f.one_hot(m.tensor([1.0]))),
    ("embedding with float indices", lambda m, f: f.embedding(m.tensor([1.0]), m.ones(3, 2))),
    ("embedding with bool indices", lambda m, f: f.embedding(m.tensor([True]), m.ones(3, 2))),
    ("embedding with a 1-D weight", lambda m, f: f.embedding(m.tensor([0]), m.ones(3))),
    ("embedding_bag with float offsets", lambda m, f: f.embedding_bag(m.tensor([1, 2]), m.ones(3, 2), m.tensor([0.0]))),
    ("embedding_bag with an integer weight", lambda m, f: f.embedding_bag(m.tensor([1]), m.tensor([[1, 2]] * 3), m.tensor([0]))),
    ("int() of a tensor with 3 elements", lambda m, f: int(m.ones(3))),
    ("float() of a tensor with 3 elements", lambda m, f: float(m.ones(3))),
    ("item() of a tensor with 3 elements", lambda m, f: m.ones(3).item()),
    # Reductions over an empty dim have no identity: PyTorch's IndexError, not NumPy's ValueError.
    ("max over an empty dim", lambda m, f: m.ones(0, 3).max(0)),
    ("min over an empty dim", lambda m, f: m.ones(0, 3).min(-2)),
    ("amax over an empty dim", lambda m, f: m.ones(0, 3).amax(0)),
    ("amin over empty dims", lambda m, f: m.ones(0, 3).amin((0, 1))),
    ("argmax over an empty dim", lambda m, f: m.ones(0, 3).argmax(0)),
    ("argmin of an empty tensor", lambda m, f: m.ones(0, 3).argmin()),
    ("max of an empty tensor", lambda m, f: m.ones(0, 3).max()),
    ("amax of an empty tensor", lambda m, f: m.ones(0, 3).amax()),
    ("cross_entropy with no classes", lambda m, f: f.cross_entropy(m.ones(4, 0), m.tensor([0, 0, 0, 0]))),
    ("nll_loss with no classes", lambda m, f: f.nll_loss(m.ones(4, 0), m.tensor([1, 0, 0, 0]))),
    ("comparison of shapes that do not broadcast", lambda m, f: m.ones(4, 6) > m.ones(4, 3)),
    ("equality of shapes that do not broadcast", lambda m, f: m.ones(4, 6) == m.ones(4, 3)),
    ("pad of uint8 with a negative value", lambda m, f: f.pad(m.ones(2, dtype=m.uint8), (1, 1), value=-1)),
    ("pad of uint8 with a value above 255", lambda m, f: f.pad(m.ones(2, dtype=m.uint8), (1, 1), value=300)),
    # A dim named twice (also as its negative) is refused, by name, even on a 0-d tensor.
    ("flip of a 0-d tensor over dims 0 and -1", lambda m, f: m.flip(m.ones(()), (0, -1))),
    ("flip over dims 0 and -2", lambda m, f: m.flip(m.ones(3, 2), (0, -2))),
    ("sum over dims 1, -1", lambda m, f: m.ones(3, 2).sum((1, -1, 0))),
    ("sum of a 0-d tensor over dims 0 and -1", lambda m, f: m.ones(()).sum((0, -1))),
    ("where of shapes that do not broadcast",
     lambda m, f: m.where(m.ones(4, 6) > 0, m.ones(4, 6), m.ones(4, 3))),
]


def _error(lib_name, call):
    lib, functional = LIBS[lib_name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(lib, functional)
        except Exception as e:  # noqa: BLE001 - the error is the result
            return e
    return None


@pytest.mark.parametrize("name, call", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_inputs_raise_pytorchs_error(name, call):
    theirs, ours = _error("torch", call), _error("minigrad", call)
    assert theirs is not None, "the case must be one PyTorch refuses"
    assert type(ours) is type(theirs), f"torch raises {type(theirs).__name__}: {theirs}; minigrad {ours!r}"
    first_words = " ".join(str(theirs).split()[:3])
    assert first_words in str(ours), f"torch says {theirs!r}, minigrad {ours!r}"


@pytest.mark.parametrize("call", [
    lambda m: m.ones(4, 0).max(0), lambda m: m.ones(4, 0).min(0), lambda m: m.ones(0, 3).max(1),
    lambda m: m.ones(0, 3).amax(1), lambda m: m.ones(0, 3).argmin(1), lambda m: m.ones(2, 0, 3).amin(2),
    lambda m: m.ones(2, 0, 3).amax((0, 2), keepdim=True),
], ids=["max(4x0, 0)", "min(4x0, 0)", "max(0x3, 1)", "amax(0x3, 1)", "argmin(0x3, 1)", "amin(2x0x3, 2)", "amax(2x0x3, (0, 2))"])
def test_reductions_over_a_non_empty_dim_of_an_empty_tensor_give_empty_results_as_in_pytorch(call):
    ours, theirs = call(minigrad), call(torch)
    for a, b in zip(*(((r,) if not isinstance(r, tuple) else r) for r in (ours, theirs))):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_no_classes_and_every_target_ignored_is_pytorchs_result(reduction):
    ours = minigrad.ones(4, 0, dtype=minigrad.float64, requires_grad=True)
    theirs = torch.ones(4, 0, dtype=torch.float64, requires_grad=True)
    y = F.cross_entropy(ours, minigrad.tensor([0, 0, 0, 0]), ignore_index=0, reduction=reduction)
    ty = TF.cross_entropy(theirs, torch.tensor([0, 0, 0, 0]), ignore_index=0, reduction=reduction)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    assert ours.grad.shape == (4, 0) and tuple(theirs.grad.shape) == (4, 0)


def test_split_of_an_empty_dim_by_zero_is_the_tensor_itself_as_in_pytorch():
    (part,) = minigrad.zeros(0, 3).split(0)
    assert part.shape == tuple(torch.zeros(0, 3).split(0)[0].shape)


@pytest.mark.parametrize("shape, dim", [((0, 3), 0), ((0, 3), 1), ((2, 0), 1), ((0,), 0), ((2, 0, 3), (1, 2))])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_and_logsumexp_of_empty_tensors_match_torch(name, shape, dim):
    if name != "logsumexp" and isinstance(dim, tuple):
        dim = dim[0]
    x = np.zeros(shape, dtype=np.float32)
    ours, theirs = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = getattr(minigrad, name)(ours, dim)
        y.backward(minigrad.ones(y.shape))
    ty = getattr(torch, name)(theirs, dim)
    ty.backward(torch.ones_like(ty))
    assert y.shape == tuple(ty.shape) and y.dtype == minigrad.float32
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_logsumexp_of_an_all_minus_inf_slice_is_minus_inf_without_a_warning():
    x = np.full((2, 3), -np.inf, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = minigrad.logsumexp(minigrad.tensor(x), 1)
    np.testing.assert_array_equal(y.numpy(), torch.logsumexp(torch.tensor(x), 1).numpy())


def test_float16_indexing_backward_accumulates_repeats_like_torch():
    x = np.arange(12, dtype=np.float16).reshape(4, 3)
    idx = np.array([0, 2, 2, -1])
    ours, theirs = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    u = np.linspace(-1, 1, 12, dtype=np.float16).reshape(4, 3)
    ours[minigrad.tensor(idx)].backward(minigrad.tensor(u))
    theirs[torch.tensor(idx)].backward(torch.tensor(u))
    assert ours.grad.dtype == minigrad.float16
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("options", [{}, {"padding_idx": 1}, {"scale_grad_by_freq": True}])
def test_embedding_of_a_float16_table_matches_torch(options):
    w = np.linspace(-2, 2, 10, dtype=np.float16).reshape(5, 2)
    idx = np.array([[0, 1, 4], [4, 4, 2]])
    u = np.linspace(1, 3, 12, dtype=np.float16).reshape(2, 3, 2)
    ours, theirs = minigrad.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = F.embedding(minigrad.tensor(idx), ours, **options)
    ty = TF.embedding(torch.tensor(idx), theirs, **options)
    y.backward(minigrad.tensor(u))
    ty.backward(torch.tensor(u))
    assert y.dtype == minigrad.float16
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-3)


def test_embedding_of_a_float16_table_checks_the_index_range():
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(minigrad.tensor([5]), minigrad.ones(5, 2, dtype=minigrad.float16))
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(minigrad.tensor([-1]), minigrad.ones(5, 2, dtype=minigrad.float16))


@pytest.mark.parametrize("other", [None, "x"])
def test_equality_with_none_or_a_string_is_pythons_answer_as_in_pytorch(other):
    for lib in (minigrad, torch):
        t = lib.ones(3)
        assert (t == other) is False and (t != other) is True
