"""minigrad.testing: gradcheck catches the classic backward bugs, and the
strategies produce what they promise."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st

import minigrad
from minigrad.autograd import Primitive
from minigrad.testing import GradcheckError, central_difference, gradcheck
from minigrad.testing import strategies as mst


def leaf(shape=(3, 2), seed=0, dtype=np.float64):
    return minigrad.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


class WrongDerivative(Primitive):
    """y = x³ with the wrong VJP 2x·ȳ."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x


class IgnoresIncomingGradient(Primitive):
    """y = 2x with the VJP ``2 * ones`` - right only for a cotangent of ones (``y.sum()``)."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return 2 * np.ones_like(grad)


class NotReentrant(Primitive):
    """y = x², whose backward doubles its saved value in place each time it runs."""

    @staticmethod
    def forward(ctx, x):
        ctx.two_x = 2 * x
        return x * x

    @staticmethod
    def backward(ctx, grad):
        out = grad * ctx.two_x
        ctx.two_x *= 1.5
        return out


def test_central_difference_of_a_cubic_is_off_by_exactly_eps_squared():
    # ((x + e)³ − (x − e)³) / 2e = 3x² + e²: the error of a central difference is O(eps²);
    # a one-sided difference would be off by about 3x·e.
    x = np.array([[-1.5, 0.25, 2.0], [0.5, -0.75, 1.0]])
    eps = 1e-3
    numeric = central_difference(lambda: float(np.sum(x ** 3)), x, eps)
    assert numeric.shape == x.shape and numeric.dtype == np.float64
    np.testing.assert_allclose(numeric, 3 * x ** 2 + eps ** 2, rtol=0, atol=1e-9)


def test_central_difference_moves_one_element_at_a_time_and_restores_it_exactly():
    x = np.random.default_rng(0).standard_normal((3, 4))
    before = x.copy()
    seen = []

    def f():
        changed = np.argwhere(x != before)
        assert len(changed) <= 1, f"{len(changed)} elements perturbed at once"
        seen.append(tuple(changed[0]) if len(changed) else None)
        return float(np.sum(np.sin(x)))

    numeric = central_difference(f, x, 1e-6)
    np.testing.assert_array_equal(x, before)  # bit for bit
    assert sorted(set(seen) - {None}) == [tuple(i) for i in np.ndindex(3, 4)]
    np.testing.assert_allclose(numeric, np.cos(before), rtol=1e-6, atol=1e-8)


def test_central_difference_works_on_a_strided_view_and_a_0d_array():
    base = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    view = base[:, ::2]
    numeric = central_difference(lambda: float(np.sum(base ** 2)), view, 1e-6)
    np.testing.assert_allclose(numeric, 2 * view, rtol=1e-6, atol=1e-8)
    scalar = np.array(0.5)
    np.testing.assert_allclose(central_difference(lambda: float(np.exp(scalar)), scalar, 1e-6), np.exp(0.5), rtol=1e-8)


def test_gradcheck_passes_correct_ops_and_returns_true():
    a, b = leaf((2, 3)), leaf((3,), seed=1)
    assert gradcheck(lambda x, y: (x * y).tanh().sum(dim=0), [a, b]) is True
    assert gradcheck(lambda x: x.softmax(dim=-1), leaf()) is True


def test_gradcheck_passes_non_tensor_arguments_through():
    idx = minigrad.tensor([0, 2, 2])
    assert gradcheck(lambda w, i, d: minigrad.embedding(w, i).sum(dim=d), [leaf((3, 2)), idx, 0])


def test_gradcheck_reports_the_worst_element_of_a_wrong_derivative():
    x = leaf((2, 2))
    with pytest.raises(GradcheckError, match="gradient mismatch for input 0") as info:
        gradcheck(WrongDerivative.apply, [x])
    err = info.value
    assert isinstance(err, AssertionError)
    assert err.input_index == 0 and len(err.element) == 2
    assert err.analytic != pytest.approx(err.numeric, rel=1e-3)


def test_gradcheck_uses_a_random_cotangent_so_ones_like_bugs_fail():
    x = leaf((4,))
    # With u = 1 (i.e. y.sum()) this bug is invisible...
    g = minigrad.autograd.grad(IgnoresIncomingGradient.apply(x).sum(), x)[0]
    np.testing.assert_array_equal(g.detach().numpy(), 2 * np.ones(4))
    # ... a random cotangent exposes it.
    with pytest.raises(GradcheckError):
        gradcheck(IgnoresIncomingGradient.apply, [x])


def test_gradcheck_catches_a_backward_that_is_not_reentrant():
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(NotReentrant.apply, [leaf()])


def test_gradcheck_can_return_false_instead_of_raising():
    assert gradcheck(WrongDerivative.apply, [leaf()], raise_exception=False) is False


def test_gradcheck_works_in_float64_even_for_float32_inputs_and_leaves_them_untouched():
    x = leaf((3,), dtype=np.float32)
    before = x.detach().numpy().copy()
    # float32 central differences would be off by ~0.1 with eps=1e-6; float64 makes it pass.
    assert gradcheck(lambda t: (t * t * t).sum(), [x])
    assert x.dtype == np.float32 and x.grad is None
    np.testing.assert_array_equal(x.detach().numpy(), before)


def test_gradcheck_handles_multiple_outputs():
    x = leaf((2, 3))
    assert gradcheck(lambda t: (t.exp(), t * 2), [x])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires grad"):
        gradcheck(lambda t: t * 2, [minigrad.ones(2)])


def test_importing_minigrad_testing_does_not_import_hypothesis():
    code = "import sys, minigrad, minigrad.testing; assert 'hypothesis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- strategies -----------------------------------------------------------------------
@given(mst.arrays(mst.shapes(0, 3), min_value=-2.0, max_value=1.0))
def test_arrays_are_float64_within_bounds(a):
    assert a.dtype == np.float64
    assert np.all((a >= -2.0) & (a <= 1.0))


@given(mst.arrays(mst.shapes(1, 3), avoid=(0.0, 1.0), gap=0.1))
def test_arrays_keep_away_from_kinks(a):
    assert np.all(np.abs(a) >= 0.1) and np.all(np.abs(a - 1.0) >= 0.1 - 1e-12)


@given(mst.arrays(mst.shapes(1, 2, 1, 5), distinct=True, gap=0.125))
def test_distinct_arrays_have_no_near_ties(a):
    flat = np.sort(a.ravel())
    assert np.all(np.diff(flat) >= 0.125 - 1e-12)


@pytest.mark.parametrize("layout", ["transposed", "strided", "negative"])
def test_arrays_come_in_non_contiguous_layouts(layout):
    a = find(mst.arrays(mst.shapes(2, 3, 2, 3), layouts=(layout,)), lambda a: True)
    assert not a.flags.c_contiguous
    if layout == "negative":
        assert any(s < 0 for s in a.strides)


@given(mst.broadcast_shape_pairs())
def test_broadcast_shape_pairs_broadcast(pair):
    np.broadcast_shapes(*pair)


@given(st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(lambda s: st.tuples(st.just(s), mst.broadcastable_shapes(s))))
def test_broadcastable_shapes_broadcast_against_the_shape(pair):
    np.broadcast_shapes(*pair)
