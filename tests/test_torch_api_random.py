"""Randomness as PyTorch programs use it: ``Generator``, ``generator=``, seeding, RNG state, ``multinomial``.

minigrad's streams are NumPy's, so values cannot equal PyTorch's; the tests pin
what can be pinned: reproducibility under a seed, independence of generators,
the distributions drawn, and PyTorch's argument rules and error messages.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad
from minigrad import nn


def draws(**gen):
    """One draw from every random function that takes ``generator=``."""
    w = minigrad.zeros(4, 3)
    return [
        minigrad.rand(3, **gen),
        minigrad.randn(2, 2, **gen),
        minigrad.randint(0, 100, (5,), **gen),
        minigrad.randperm(8, **gen),
        minigrad.rand_like(w, **gen),
        minigrad.randn_like(w, **gen),
        minigrad.multinomial(minigrad.ones(6), 3, **gen),
        minigrad.zeros(3).normal_(**gen),
        minigrad.zeros(3).uniform_(-2, 2, **gen),
        nn.init.normal_(minigrad.zeros(2, 2), **gen),
        nn.init.uniform_(minigrad.zeros(2, 2), **gen),
        nn.init.xavier_uniform_(minigrad.zeros(2, 2), **gen),
        nn.init.xavier_normal_(minigrad.zeros(2, 2), **gen),
        nn.init.kaiming_uniform_(minigrad.zeros(2, 2), **gen),
        nn.init.kaiming_normal_(minigrad.zeros(2, 2), **gen),
    ]


def same(a, b) -> bool:
    return all(np.array_equal(x.detach().numpy(), y.detach().numpy()) for x, y in zip(a, b))


def test_a_seeded_generator_reproduces_every_random_function():
    g = minigrad.Generator().manual_seed(123)
    first = draws(generator=g)
    minigrad.manual_seed(0)
    minigrad.randn(10)  # the default generator's use does not disturb g's stream
    assert same(first, draws(generator=g.manual_seed(123)))
    assert not same(first, draws(generator=g.manual_seed(124)))


def test_manual_seed_reproduces_every_random_function_through_the_default_generator():
    minigrad.manual_seed(9)
    a = draws()
    b = draws(generator=minigrad.Generator().manual_seed(5))  # draws from another generator in between
    minigrad.manual_seed(9)
    assert same(a, draws()) and not same(a, b)


def test_a_new_generator_starts_from_pytorchs_default_seed():
    assert minigrad.Generator().initial_seed() == torch.Generator().initial_seed() == 67280421310721
    assert same(draws(generator=minigrad.Generator()), draws(generator=minigrad.Generator()))


def test_get_state_and_set_state_resume_the_stream():
    g = minigrad.Generator().manual_seed(4)
    minigrad.randn(5, generator=g)
    state = g.get_state()
    assert state.dtype == minigrad.uint8 and state.ndim == 1
    ahead = draws(generator=g)
    other = minigrad.Generator().set_state(state)
    assert same(ahead, draws(generator=other)) and other.initial_seed() == 4
    minigrad.manual_seed(1)
    saved = minigrad.get_rng_state()
    x = minigrad.randn(4)
    minigrad.set_rng_state(saved)
    np.testing.assert_array_equal(minigrad.randn(4).detach().numpy(), x.detach().numpy())


def test_seed_and_initial_seed():
    s = minigrad.seed()
    assert isinstance(s, int) and 0 <= s < 2**64 and minigrad.initial_seed() == s
    g = minigrad.manual_seed(-1)
    assert g is minigrad.default_generator and minigrad.initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    assert minigrad.Generator().manual_seed(2**64 - 1).initial_seed() == 2**64 - 1


def test_dropout_follows_the_default_generator():
    x = minigrad.ones(50)
    minigrad.manual_seed(2)
    a = nn.functional.dropout(x, 0.5)
    minigrad.manual_seed(2)
    np.testing.assert_array_equal(a.detach().numpy(), nn.functional.dropout(x, 0.5).detach().numpy())


def errors_of(make):
    out = []
    for lib in (torch, minigrad):
        with pytest.raises(Exception) as info:
            make(lib)
        out.append((type(info.value), str(info.value)))
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.Generator().manual_seed(1.5),
        lambda lib: lib.Generator().manual_seed("1"),
        lambda lib: lib.Generator().manual_seed(2**64),
        lambda lib: lib.Generator().manual_seed(-(2**63) - 1),
        lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 0),
        lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), -1),
        lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 3),
        lambda lib: lib.multinomial(lib.ones(2, 0), 1),
        lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1),
        lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1, True),
        lambda lib: lib.multinomial(lib.tensor([[1.0, 2.0], [0.0, 0.0]]), 1),
        lambda lib: lib.multinomial(lib.tensor([-1.0, 2.0]), 1),
        lambda lib: lib.multinomial(lib.tensor([float("nan"), 2.0]), 1),
        lambda lib: lib.multinomial(lib.tensor([float("inf"), 2.0]), 1),
        lambda lib: lib.multinomial(lib.tensor(1.0), 1),
        lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
        lambda lib: lib.multinomial(lib.ones(3), 1.5),
    ],
)
def test_errors_match_pytorch(make):
    (want_type, want), (got_type, got) = errors_of(make)
    assert got_type is want_type and got == want


def test_multinomial_dtype_error_names_the_dtype():
    with pytest.raises(RuntimeError, match="multinomial only supports floating-point dtypes for input, got: int64"):
        minigrad.multinomial(minigrad.tensor([1, 2]), 1)


def test_random_functions_reject_a_numpy_generator():
    with pytest.raises(TypeError, match="generator must be a minigrad.Generator, not Generator"):
        minigrad.randn(2, generator=np.random.default_rng(0))


@pytest.mark.parametrize("shape, n, replacement", [((5,), 3, False), ((4, 6), 6, False), ((3,), 7, True), ((2, 4), 5, True), ((0, 3), 2, True)])
def test_multinomial_shapes_and_dtype_match_pytorch(shape, n, replacement):
    ours = minigrad.multinomial(minigrad.ones(*shape), n, replacement)
    theirs = torch.multinomial(torch.ones(*shape), n, replacement)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == minigrad.int64
    assert minigrad.ones(*shape).multinomial(n, replacement).shape == ours.shape


def test_multinomial_with_replacement_draws_in_proportion_and_never_picks_zero_weights():
    g = minigrad.Generator().manual_seed(0)
    probs = minigrad.tensor([[0.0, 1.0, 0.0, 3.0, 0.0], [2.0, 0.0, 2.0, 0.0, 0.0]])
    out = minigrad.multinomial(probs, 40000, replacement=True, generator=g).detach().numpy()
    np.testing.assert_allclose(np.bincount(out[0], minlength=5) / 40000, [0, 0.25, 0, 0.75, 0], atol=0.01)
    np.testing.assert_allclose(np.bincount(out[1], minlength=5) / 40000, [0.5, 0, 0.5, 0, 0], atol=0.01)


def test_multinomial_without_replacement_is_a_sequential_draw():
    g = minigrad.Generator().manual_seed(1)
    w = np.array([1.0, 2.0, 7.0])
    picks = minigrad.multinomial(minigrad.tensor(np.tile(w, (30000, 1))), 2, generator=g).detach().numpy()
    assert all(len(set(row)) == 2 for row in picks[:100])
    # P(first = i) = w_i / Σw; P(second = j | first = i) = w_j / (Σw − w_i).
    np.testing.assert_allclose(np.bincount(picks[:, 0], minlength=3) / len(picks), w / w.sum(), atol=0.01)
    second_after_2 = picks[picks[:, 0] == 2, 1]
    np.testing.assert_allclose(np.mean(second_after_2 == 1), 2.0 / 3.0, atol=0.02)
    # Zero weights come after the positive ones, in random order (as in PyTorch).
    tails = {tuple(minigrad.multinomial(minigrad.tensor([0.0, 1.0, 0.0, 0.0]), 3, generator=g).tolist())
             for _ in range(50)}
    assert all(t[0] == 1 and len(set(t)) == 3 and 1 not in t[1:] for t in tails) and len(tails) > 1


def test_multinomial_is_not_differentiable_and_accepts_float64():
    p = minigrad.tensor([1.0, 2.0], requires_grad=True)
    out = minigrad.multinomial(p, 1)
    assert not out.requires_grad and out.dtype == minigrad.int64
    assert minigrad.multinomial(minigrad.tensor([1.0, 2.0], dtype=minigrad.float64), 2).dtype == minigrad.int64
