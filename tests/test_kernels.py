"""Specification of the gather / index-add kernels behind Embedding.

Every kernel test runs against both backends (the compiled one and the NumPy
reference) through the ``backend`` fixture, and is checked against NumPy's own
``np.take`` / ``np.add.at``.
"""
import os
import re
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad import kernels

HAVE_CYTHON = "cython" in kernels.available_backends()
needs_cython = pytest.mark.skipif(not HAVE_CYTHON, reason="compiled kernels not built")


def _on_backend(name, door):
    """``door`` (kernels.gather or kernels.index_add) run with backend ``name`` for one call."""
    def call(*args, **kwargs):
        with kernels.use_backend(name):
            return door(*args, **kwargs)
    return call


@pytest.fixture(scope="module", params=["numpy", pytest.param("cython", marks=needs_cython)])
def backend(request):
    """The door functions, each call switched to one backend and back (so module
    scope is safe and Hypothesis need not reset anything between examples)."""
    name = request.param
    return SimpleNamespace(name=name, gather=_on_backend(name, kernels.gather),
                           index_add=_on_backend(name, kernels.index_add))


# ---------------------------------------------------------------------------
# Strategies: values, indices with many duplicates, and memory layouts
# ---------------------------------------------------------------------------

VALUE_DTYPES = [np.float32, np.float64]
INDEX_DTYPES = [np.int32, np.int64]
LAYOUTS = ["c", "fortran", "reversed_rows", "reversed_cols", "every_other", "readonly"]


def with_layout(a, layout):
    """The same values as ``a`` in another memory layout (possibly a non-contiguous view)."""
    a = np.array(a, order="C")   # (np.ascontiguousarray would turn 0-d into 1-d)
    if layout == "c":
        return a
    if layout == "fortran" and a.ndim >= 1:   # (it would turn 0-d into 1-d)
        return np.asfortranarray(a)
    if layout == "reversed_rows" and a.ndim >= 1:
        return a[::-1].copy()[::-1]
    if layout == "reversed_cols" and a.ndim >= 2:
        return a[..., ::-1].copy()[..., ::-1]
    if layout == "every_other" and a.ndim >= 1:
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        big[..., ::2] = a
        return big[..., ::2]
    if layout == "readonly":
        a = a.copy()
        a.flags.writeable = False
        return a
    return a


@st.composite
def embedding_problem(draw, max_rows=12, max_dim=6):
    """weight (V, D), idx of any shape (0-d and empty included) drawn from a range that is
    often tiny, so duplicates are the rule; small-integer values make every sum exact."""
    value_dtype = draw(st.sampled_from(VALUE_DTYPES))
    index_dtype = draw(st.sampled_from(INDEX_DTYPES))
    n_rows = draw(st.integers(1, max_rows))
    dim = draw(st.integers(0, max_dim))
    hi = draw(st.sampled_from([0, 1, 2, n_rows - 1]))
    hi = min(hi, n_rows - 1)
    idx_shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6))
    idx = draw(hnp.arrays(index_dtype, idx_shape, elements=st.integers(0, hi)))
    weight = draw(hnp.arrays(value_dtype, (n_rows, dim), elements=st.integers(-8, 8).map(float)))
    src = draw(hnp.arrays(value_dtype, idx_shape + (dim,), elements=st.integers(-8, 8).map(float)))
    return SimpleNamespace(weight=weight, idx=idx, src=src, n_rows=n_rows, dim=dim)


def index_add_reference(out, idx, src):
    expected = np.array(out, copy=True)
    flat = np.asarray(idx).reshape(-1)
    np.add.at(expected, flat, np.asarray(src).reshape(flat.size, out.shape[1]))
    return expected


# ---------------------------------------------------------------------------
# gather
# ---------------------------------------------------------------------------


@given(p=embedding_problem(), weight_layout=st.sampled_from(LAYOUTS), idx_layout=st.sampled_from(LAYOUTS))
def test_gather_equals_np_take_for_any_shape_dtype_and_layout(backend, p, weight_layout, idx_layout):
    weight = with_layout(p.weight, weight_layout)
    idx = with_layout(p.idx, idx_layout)
    got = backend.gather(weight, idx)
    expected = np.take(p.weight, p.idx, axis=0)
    assert got.dtype == p.weight.dtype
    assert got.shape == p.idx.shape + (p.dim,)
    np.testing.assert_array_equal(got, expected)


@given(p=embedding_problem())
def test_gather_fills_and_returns_the_given_out(backend, p):
    out = np.full(p.idx.shape + (p.dim,), 99, p.weight.dtype)
    got = backend.gather(p.weight, p.idx, out=out)
    assert got is out
    np.testing.assert_array_equal(out, np.take(p.weight, p.idx, axis=0))


def test_gather_of_0d_index_is_one_row(backend):
    weight = np.arange(12.0).reshape(4, 3)
    got = backend.gather(weight, np.int64(2))
    assert got.shape == (3,)
    np.testing.assert_array_equal(got, weight[2])


def test_gather_of_empty_index_is_empty(backend):
    weight = np.ones((4, 3), np.float32)
    got = backend.gather(weight, np.zeros((0, 5), np.int64))
    assert got.shape == (0, 5, 3) and got.dtype == np.float32
    assert backend.gather(np.ones((0, 3)), np.zeros(0, np.int32)).shape == (0, 3)


def test_gather_accepts_python_lists_and_small_integer_dtypes(backend):
    weight = np.arange(10.0).reshape(5, 2)
    expected = weight[[4, 0, 4]]
    np.testing.assert_array_equal(backend.gather(weight, [4, 0, 4]), expected)
    for dtype in (np.uint8, np.int8, np.int16, np.uint16, np.uint32, np.uint64, np.longlong):
        np.testing.assert_array_equal(backend.gather(weight, np.array([4, 0, 4], dtype)), expected)


# ---------------------------------------------------------------------------
# index_add
# ---------------------------------------------------------------------------


@given(
    p=embedding_problem(),
    out_layout=st.sampled_from(["c", "fortran", "reversed_rows", "every_other"]),
    src_layout=st.sampled_from(LAYOUTS),
    idx_layout=st.sampled_from(LAYOUTS),
)
def test_index_add_equals_np_add_at_with_duplicates_and_any_layout(backend, p, out_layout, src_layout, idx_layout):
    out = with_layout(p.weight, out_layout)
    expected = index_add_reference(p.weight, p.idx, p.src)
    got = backend.index_add(out, with_layout(p.idx, idx_layout), with_layout(p.src, src_layout))
    assert got is out
    np.testing.assert_array_equal(out, expected)


@given(data=st.data(), value_dtype=st.sampled_from(VALUE_DTYPES), index_dtype=st.sampled_from(INDEX_DTYPES))
def test_index_add_with_unique_indices_is_a_plain_scatter_add(backend, data, value_dtype, index_dtype):
    n_rows = data.draw(st.integers(1, 20))
    dim = data.draw(st.integers(1, 5))
    idx = data.draw(st.permutations(range(n_rows)))
    idx = np.array(idx[: data.draw(st.integers(0, n_rows))], index_dtype)
    out = np.arange(n_rows * dim, dtype=value_dtype).reshape(n_rows, dim)
    src = np.ones((len(idx), dim), value_dtype)
    expected = out.copy()
    expected[idx] += src   # correct here only because idx has no duplicates
    np.testing.assert_array_equal(backend.index_add(out, idx, src), expected)


def test_fancy_index_add_drops_duplicates_but_index_add_does_not(backend):
    idx = np.array([0, 0, 0, 2])
    src = np.ones((4, 1))
    naive = np.zeros((3, 1))
    naive[idx] += src                     # reads once, writes once: row 0 gets 1, not 3
    assert naive[:, 0].tolist() == [1.0, 0.0, 1.0]
    out = backend.index_add(np.zeros((3, 1)), idx, src)
    assert out[:, 0].tolist() == [3.0, 0.0, 1.0]


def test_index_add_accumulates_into_existing_values(backend):
    out = np.full((2, 2), 10.0, np.float32)
    backend.index_add(out, np.array([[1, 1], [1, 0]]), np.ones((2, 2, 2), np.float32))
    np.testing.assert_array_equal(out, [[11, 11], [13, 13]])


def test_index_add_with_empty_index_or_zero_width_changes_nothing(backend):
    out = np.arange(6.0).reshape(3, 2)
    backend.index_add(out, np.zeros(0, np.int64), np.zeros((0, 2)))
    np.testing.assert_array_equal(out, np.arange(6.0).reshape(3, 2))
    narrow = np.zeros((3, 0))
    backend.index_add(narrow, np.array([2, 2]), np.zeros((2, 0)))
    assert narrow.shape == (3, 0)


def test_index_add_of_0d_index_adds_one_row(backend):
    out = np.zeros((3, 2), np.float32)
    backend.index_add(out, np.int32(1), np.array([1.5, 2.5], np.float32))
    np.testing.assert_array_equal(out, [[0, 0], [1.5, 2.5], [0, 0]])


def test_index_add_into_a_non_contiguous_out_updates_it_in_place(backend):
    base = np.zeros((4, 6))
    out = base[:, ::2]                     # a strided view into base
    backend.index_add(out, np.array([3, 3, 0]), np.ones((3, 3)))
    np.testing.assert_array_equal(base[:, ::2], [[1, 1, 1], [0, 0, 0], [0, 0, 0], [2, 2, 2]])
    np.testing.assert_array_equal(base[:, 1::2], 0)


# ---------------------------------------------------------------------------
# The compiled kernel's parallel strategies (forced, so small inputs reach them)
# ---------------------------------------------------------------------------

STRATEGY_NAMES = ["serial", "columns", "rows", "private"]


@needs_cython
@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
@given(p=embedding_problem(max_rows=40, max_dim=40), src_layout=st.sampled_from(LAYOUTS))
def test_every_index_add_strategy_equals_np_add_at(strategy, p, src_layout):
    out = p.weight.copy()
    expected = index_add_reference(out, p.idx, p.src)
    with kernels._force_strategy(strategy), kernels.use_backend("cython"):
        kernels.index_add(out, p.idx, with_layout(p.src, src_layout))
    np.testing.assert_array_equal(out, expected)


@pytest.fixture
def parallel_from_small_work(monkeypatch):
    """Let inputs of test size (above the compiled kernels' own 64k-element floor) use threads,
    however busy the machine running the tests is."""
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(kernels, "PRIVATE_MIN_WORK", 0)
    monkeypatch.setattr(kernels, "_cpus_busy_elsewhere", lambda: 0)


def test_below_the_parallel_threshold_the_kernels_get_one_thread(monkeypatch):
    seen = []

    def spy(weight, idx, out, num_threads):
        seen.append(num_threads)
        return kernels._numpy_gather_kernel(weight, idx, out, num_threads)

    monkeypatch.setattr(kernels, "_gather_kernel", spy)
    monkeypatch.setattr(kernels, "_num_threads", 2)
    monkeypatch.setattr(kernels, "_SYSTEM_CPUS", 2)
    monkeypatch.setattr(kernels, "_cpus_busy_elsewhere", lambda: 0)
    weight = np.zeros((10, 4))
    kernels.gather(weight, np.zeros(kernels.PARALLEL_MIN_WORK // 4 - 1, np.int64))
    kernels.gather(weight, np.zeros(kernels.PARALLEL_MIN_WORK // 4, np.int64))
    assert seen == [1, 2]


def test_index_add_into_a_table_much_smaller_than_the_source_goes_parallel_earlier(monkeypatch):
    # With many indices per row the compiled kernel gives each thread its own copy of the
    # table, so threads pay from PRIVATE_MIN_WORK; with few, only from PARALLEL_MIN_WORK.
    seen = []

    def spy(out, idx, src, num_threads, strategy):
        seen.append(num_threads)
        return kernels._numpy_index_add_kernel(out, idx, src, num_threads, strategy)

    monkeypatch.setattr(kernels, "_index_add_kernel", spy)
    monkeypatch.setattr(kernels, "_num_threads", 2)
    monkeypatch.setattr(kernels, "_SYSTEM_CPUS", 2)
    monkeypatch.setattr(kernels, "_cpus_busy_elsewhere", lambda: 0)
    d = 8
    n = kernels.PRIVATE_MIN_WORK // d
    few_rows = np.zeros((n // kernels.PRIVATE_INDICES_PER_ROW, d))
    many_rows = np.zeros((n // kernels.PRIVATE_INDICES_PER_ROW + 1, d))
    for out, count in ((few_rows, n - 1), (few_rows, n), (many_rows, n)):
        kernels.index_add(out, np.zeros(count, np.int64), np.ones((count, d)))
    assert seen == [1, 2, 1]
    assert kernels.PRIVATE_MIN_WORK < kernels.PARALLEL_MIN_WORK


@pytest.mark.parametrize("busy, threads", [(0, 4), (1, 3), (3, 1), (9, 1)])
def test_large_calls_use_only_the_cpus_no_other_work_wants(monkeypatch, busy, threads):
    # A parallel region waits for its slowest thread: one sharing a core with a busy
    # process stalls the whole call, so the door asks only for idle CPUs.
    monkeypatch.setattr(kernels, "_num_threads", 4)
    monkeypatch.setattr(kernels, "_SYSTEM_CPUS", 4)
    monkeypatch.setattr(kernels, "_cpus_busy_elsewhere", lambda: busy)
    assert kernels._threads_for(kernels.PARALLEL_MIN_WORK) == threads
    assert kernels._threads_for(kernels.PARALLEL_MIN_WORK - 1) == 1


@pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="no /proc/loadavg: nothing is counted")
def test_a_cpu_bound_process_counts_as_busy():
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        assert kernels._cpus_busy_elsewhere() >= 1
    finally:
        hog.kill()
        hog.wait()


def zipf_indices(rng, n, n_rows, dtype=np.int64):
    return ((rng.zipf(1.2, n) - 1) % n_rows).astype(dtype)


@pytest.mark.parametrize(
    "n_rows, dim, n",
    [
        (1_000, 16, 200_000),    # many more indices than rows, narrow rows
        (100_000, 16, 20_000),   # few repeats, narrow rows
        (5_000, 128, 4_000),     # wide rows
        (3, 300, 1_000),         # almost every index a duplicate
    ],
)
@pytest.mark.parametrize("dtype", VALUE_DTYPES)
def test_large_inputs_above_the_thread_thresholds_stay_correct(backend, n_rows, dim, n, dtype, parallel_from_small_work):
    rng = np.random.default_rng(n_rows + dim + n)
    # Small integers: every partial sum is exact even in float32, so any
    # summation order (threads, private buffers) must give exactly np.add.at.
    weight = rng.integers(-4, 5, (n_rows, dim)).astype(dtype)
    src = rng.integers(-4, 5, (n, dim)).astype(dtype)
    for idx in (rng.integers(0, n_rows, n), zipf_indices(rng, n, n_rows, np.int32)):
        np.testing.assert_array_equal(backend.gather(weight, idx), weight[idx])
        out = weight.copy()
        backend.index_add(out, idx, src)
        np.testing.assert_array_equal(out, index_add_reference(weight, idx, src))


def test_large_float_sums_agree_with_np_add_at_to_rounding(backend, parallel_from_small_work):
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 1_000, 200_000)
    src = rng.standard_normal((200_000, 16))
    out = backend.index_add(np.zeros((1_000, 16)), idx, src)
    np.testing.assert_allclose(out, index_add_reference(np.zeros((1_000, 16)), idx, src), rtol=1e-9, atol=1e-9)


def test_index_add_is_deterministic_for_a_fixed_thread_count(backend, parallel_from_small_work):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 500, 300_000)
    src = rng.standard_normal((300_000, 8)).astype(np.float32)
    first = backend.index_add(np.zeros((500, 8), np.float32), idx, src)
    second = backend.index_add(np.zeros((500, 8), np.float32), idx, src)
    np.testing.assert_array_equal(first, second)


def run_in_threads(backend_name, work, n_threads):
    """Run ``work`` in ``n_threads`` threads with the backend switched once, in
    this thread (the fixture's per-call switch is not meant for threads)."""
    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    with kernels.use_backend(backend_name):
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def test_kernels_called_from_several_python_threads_at_once_are_correct(backend, parallel_from_small_work):
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((2_000, 32))
    idx = rng.integers(0, 2_000, (40, 100))      # 128k values: large enough for OpenMP
    src = np.ones((40, 100, 32))
    expected_rows = weight[idx]
    expected_sum = index_add_reference(np.zeros_like(weight), idx, src)
    failures = []

    def work():
        try:
            for _ in range(15):
                if not np.array_equal(kernels.gather(weight, idx), expected_rows):
                    failures.append("gather")
                out = kernels.index_add(np.zeros_like(weight), idx, src)
                if not np.array_equal(out, expected_sum):
                    failures.append("index_add")
        except Exception as exc:  # surfaced below, not lost in the thread
            failures.append(repr(exc))

    run_in_threads(backend.name, work, 4)
    assert failures == []


# ---------------------------------------------------------------------------
# Bad inputs: the same errors from both backends, before anything is written
# ---------------------------------------------------------------------------

W = np.arange(10.0).reshape(5, 2)


@pytest.mark.parametrize(
    "idx, message",
    [
        (np.array([[0, 1, 2], [3, 4, 7]]), r"index 7 is out of range for weight with 5 rows \(valid range \[0, 5\)\) at position \(1, 2\) of idx"),
        (np.array([0, -1]), r"index -1 is out of range .* at position 1 of idx"),
        (np.array([2**62]), r"index 4611686018427387904 is out of range"),
        (np.array([-(2**63)]), r"index -9223372036854775808 is out of range"),
        (np.array([1, 2**64 - 1], np.uint64), r"index 18446744073709551615 is out of range .* position 1 of idx"),
        (np.array([5], np.int32), r"index 5 is out of range for weight with 5 rows"),
        (np.array([-2**31], np.int32), r"index -2147483648 is out of range"),
        (np.int64(9), r"index 9 is out of range .* position \(\) of idx"),
    ],
)
def test_out_of_range_index_is_an_index_error_naming_value_position_and_range(backend, idx, message):
    with pytest.raises(IndexError, match=message):
        backend.gather(W, idx)
    out = np.zeros((5, 2))
    src = np.ones(np.shape(idx) + (2,))
    with pytest.raises(IndexError, match=message.replace("weight", "out")):
        backend.index_add(out, idx, src)
    assert not out.any(), "nothing may be added when an index is bad"


def test_out_of_range_gather_into_out_leaves_out_untouched(backend):
    out = np.full((3, 2), 7.0)
    with pytest.raises(IndexError):
        backend.gather(W, np.array([0, 1, 5]), out=out)
    assert (out == 7.0).all()


@pytest.mark.parametrize(
    "idx, message",
    [
        (np.array([0.0, 1.0]), "float64"),
        (np.array([True, False]), "bool"),
        (np.array(["a"]), "<U1"),
        (np.array([1 + 0j]), "complex128"),
    ],
)
def test_non_integer_indices_are_a_type_error_naming_the_dtype(backend, idx, message):
    with pytest.raises(TypeError, match=message):
        backend.gather(W, idx)
    with pytest.raises(TypeError, match=message):
        backend.index_add(np.zeros((5, 2)), idx, np.ones(idx.shape + (2,)))


@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.int32, np.complex64, np.dtype(">f4"), np.longdouble])
def test_unsupported_value_dtypes_are_a_type_error_naming_the_dtype(backend, dtype):
    name = str(np.dtype(dtype))
    with pytest.raises(TypeError, match=f"weight must have dtype float32 or float64, got {name}"):
        backend.gather(W.astype(dtype), np.array([0]))
    with pytest.raises(TypeError, match=f"out must have dtype float32 or float64, got {name}"):
        backend.index_add(W.astype(dtype), np.array([0]), np.ones((1, 2), dtype))


def test_mixed_value_dtypes_are_a_type_error_not_a_silent_upcast(backend):
    with pytest.raises(TypeError, match="out has dtype float64 but weight has dtype float32"):
        backend.gather(W.astype(np.float32), np.array([0]), out=np.zeros((1, 2)))
    with pytest.raises(TypeError, match="src has dtype float32 but out has dtype float64"):
        backend.index_add(np.zeros((5, 2)), np.array([0]), np.ones((1, 2), np.float32))


@pytest.mark.parametrize("shape", [(10,), (5, 2, 1), ()])
def test_weight_or_out_not_2d_is_a_value_error_naming_the_shape(backend, shape):
    with pytest.raises(ValueError, match="weight must be 2-D .*got shape " + re.escape(str(shape))):
        backend.gather(np.zeros(shape), np.array([0]))
    with pytest.raises(ValueError, match="out must be 2-D .*got shape " + re.escape(str(shape))):
        backend.index_add(np.zeros(shape), np.array([0]), np.zeros((1,) + shape[1:]))


def test_mismatched_shapes_are_a_value_error_naming_both_shapes(backend):
    with pytest.raises(ValueError, match=r"src has shape \(3, 2\) but idx.shape \+ \(D,\) is \(4, 2\)"):
        backend.index_add(np.zeros((5, 2)), np.zeros(4, np.int64), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"src has shape \(4, 3\) but idx.shape \+ \(D,\) is \(4, 2\)"):
        backend.index_add(np.zeros((5, 2)), np.zeros(4, np.int64), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"out has shape \(3, 2\) but idx.shape \+ \(D,\) is \(2, 2\)"):
        backend.gather(W, np.array([0, 1]), out=np.zeros((3, 2)))


def test_read_only_or_non_contiguous_out_is_rejected(backend):
    frozen = np.zeros((5, 2))
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        backend.index_add(frozen, np.array([0]), np.ones((1, 2)))
    frozen_out = np.zeros((1, 2))
    frozen_out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        backend.gather(W, np.array([0]), out=frozen_out)
    with pytest.raises(ValueError, match="C-contiguous"):
        backend.gather(W, np.array([0, 1]), out=np.zeros((2, 4))[:, ::2])


def test_index_add_needs_an_ndarray_to_update(backend):
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        backend.index_add([[0.0, 0.0]], np.array([0]), np.ones((1, 2)))


# ---------------------------------------------------------------------------
# Operands that share memory: PyTorch's error, or a copy when it cannot be told
# ---------------------------------------------------------------------------

OVERLAP = "some elements of {} and the written-to array refer to a single memory location"


def test_an_out_overlapping_the_weight_is_a_gather_error_as_in_pytorch(backend):
    base = np.arange(12.0).reshape(6, 2)
    before = base.copy()
    for out in (base[:3], base[3:]):          # PyTorch refuses both, touched rows or not
        with pytest.raises(RuntimeError, match=OVERLAP.format("weight")):
            backend.gather(base, np.array([1, 0, 2]), out=out)
    np.testing.assert_array_equal(base, before)


def test_a_src_sharing_memory_with_out_is_an_index_add_error_as_in_pytorch(backend):
    out = np.arange(12.0).reshape(6, 2)
    before = out.copy()
    for src in (out[:3], out[3:], out[::-1][:3]):
        with pytest.raises(RuntimeError, match=OVERLAP.format("src")):
            backend.index_add(out, np.array([1, 0, 1]), src)
    np.testing.assert_array_equal(out, before)


def test_indices_that_share_memory_with_the_output_are_an_error_not_a_wild_write(backend):
    # A hostile caller's int64 view of the float64 output: writing the output
    # would change the indices under the kernel's feet, past its range check.
    out = np.zeros((4, 1))
    idx = out.reshape(-1).view(np.int64)      # all zeros now, huge after the first write
    src = np.full((4, 1), 1e300)
    with pytest.raises(RuntimeError, match=OVERLAP.format("idx")):
        backend.index_add(out, idx, src)
    rows = np.zeros((4, 1))
    with pytest.raises(RuntimeError, match=OVERLAP.format("idx")):
        backend.gather(np.full((4, 1), 1e300), rows.reshape(-1).view(np.int64), out=rows)
    assert not out.any() and not rows.any()


def test_interleaved_views_of_one_array_that_share_no_element_are_fine(backend):
    base = np.arange(24.0).reshape(4, 6)
    out, src = base[:, ::2], base[:3, 1::2]   # bounds overlap, elements do not
    expected = index_add_reference(out, np.array([3, 3, 0]), src.copy())
    backend.index_add(out, np.array([3, 3, 0]), src)
    np.testing.assert_array_equal(base[:, ::2], expected)


def test_operands_whose_overlap_numpy_cannot_settle_cheaply_are_copied_first(backend, monkeypatch):
    monkeypatch.setattr(kernels, "_OVERLAP_MAX_WORK", 0)   # every "maybe" is too hard to settle
    base = np.arange(24.0).reshape(4, 6)
    out, src = base[:, ::2], base[:3, 1::2]
    expected = index_add_reference(out, np.array([3, 3, 0]), src.copy())
    backend.index_add(out, np.array([3, 3, 0]), src)
    np.testing.assert_array_equal(base[:, ::2], expected)
    rows = np.zeros((2, 3))
    weight = np.lib.stride_tricks.as_strided(rows, (2, 3), (8, 8), writeable=False)  # rows[0, 0:3], rows[0, 1:4]
    expected_rows = np.take(weight.copy(), [1, 0], axis=0)
    with pytest.raises(RuntimeError):                      # this one NumPy settles: overlap
        monkeypatch.setattr(kernels, "_OVERLAP_MAX_WORK", 10_000)
        backend.gather(weight, np.array([1, 0]), out=rows)
    monkeypatch.setattr(kernels, "_OVERLAP_MAX_WORK", 0)
    np.testing.assert_array_equal(backend.gather(weight, np.array([1, 0]), out=rows), expected_rows)


def test_threads_adding_into_one_output_lose_no_update(backend, parallel_from_small_work):
    # Each call is large enough for the compiled kernel to release the GIL for a
    # few milliseconds (unlocked, the threads lost ~10% of the rows here).
    rng = np.random.default_rng(4)
    idx = rng.integers(0, 50, 200_000)
    src = np.ones((200_000, 16))
    out = np.zeros((50, 16))
    n_threads, calls = 4, 5
    barrier = threading.Barrier(n_threads)
    errors = []

    def work():
        try:
            barrier.wait()
            for _ in range(calls):
                kernels.index_add(out, idx, src)
        except Exception as exc:
            errors.append(repr(exc))

    run_in_threads(backend.name, work, n_threads)
    assert errors == []
    expected = index_add_reference(np.zeros((50, 16)), idx, src) * (n_threads * calls)
    np.testing.assert_array_equal(out, expected)


# ---------------------------------------------------------------------------
# Backend selection and threads
# ---------------------------------------------------------------------------


def test_use_backend_switches_the_kernels_behind_the_door_and_restores_them():
    before = (kernels.BACKEND, kernels._gather_kernel, kernels._index_add_kernel)
    with kernels.use_backend("numpy"):
        assert kernels.BACKEND == "numpy"
        assert kernels._gather_kernel is kernels._numpy_gather_kernel
        assert kernels._index_add_kernel is kernels._numpy_index_add_kernel
    assert (kernels.BACKEND, kernels._gather_kernel, kernels._index_add_kernel) == before
    with pytest.raises(ValueError, match="backend must be"):
        kernels.set_backend("fortran")


def test_the_door_functions_are_plain_functions_defined_in_the_door():
    # "Go to definition" must land on the code: no closures rebound at import.
    import inspect

    for func in (kernels.gather, kernels.index_add):
        assert inspect.isfunction(func) and func.__qualname__ == func.__name__
        assert func.__code__.co_filename == kernels.__file__
        assert func.__closure__ is None
        assert "Parameters" in func.__doc__


def test_compiled_backend_is_the_default_when_built():
    assert kernels.BACKEND == ("cython" if HAVE_CYTHON else "numpy")


def run_python(code, **env):
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, check=True).stdout.strip()


def test_environment_variable_forces_the_numpy_reference():
    code = "from minigrad import kernels; print(kernels.BACKEND)"
    assert run_python(code, MINIGRAD_KERNELS="numpy") == "numpy"


def test_missing_extension_falls_back_to_numpy_with_exactly_one_warning():
    code = (
        "import sys, warnings\n"
        "sys.modules['minigrad._kernels'] = None  # makes the import fail\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from minigrad import kernels\n"
        "    import numpy as np\n"
        "    kernels.gather(np.ones((2, 2)), [1])\n"
        "print(kernels.BACKEND, len(caught), caught[0].category.__name__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_KERNELS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["numpy", "1", "RuntimeWarning"]


def test_thread_count_is_capped_by_the_cpus_and_set_by_environment():
    previous = kernels.get_num_threads()
    try:
        kernels.set_num_threads(10_000)
        assert 1 <= kernels.get_num_threads() <= (os.cpu_count() or 1)
        kernels.set_num_threads(1)
        assert kernels.get_num_threads() == 1
        with pytest.raises(ValueError, match="positive integer"):
            kernels.set_num_threads(0)
    finally:
        kernels.set_num_threads(previous)
    assert run_python("from minigrad import kernels; print(kernels.get_num_threads())", MINIGRAD_NUM_THREADS="1") == "1"


def test_single_threaded_results_equal_multi_threaded_results(parallel_from_small_work):
    rng = np.random.default_rng(2)
    weight = rng.standard_normal((3_000, 64))
    idx = rng.integers(0, 3_000, 5_000)
    previous = kernels.get_num_threads()
    try:
        results = []
        for n in (1, previous):
            kernels.set_num_threads(n)
            results.append((kernels.gather(weight, idx), kernels.index_add(np.zeros_like(weight), idx, weight[idx])))
    finally:
        kernels.set_num_threads(previous)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@needs_cython
def test_a_large_gather_result_reuses_the_memory_of_a_freed_one_of_its_size():
    from minigrad import _kernels

    _kernels.release_pool()
    rng = np.random.default_rng(3)
    weight = rng.standard_normal((500, 64), dtype=np.float32)
    idx = rng.integers(0, 500, 8_192)                     # a 2 MiB result
    first = kernels.gather(weight, idx)
    address = first.ctypes.data
    del first
    again = kernels.gather(weight, idx[::-1])
    assert again.ctypes.data == address
    np.testing.assert_array_equal(again, weight[idx[::-1]])
    assert again.flags.owndata and again.flags.writeable
    del again
    assert _kernels.release_pool() == 8_192 * 64 * 4
    assert _kernels.release_pool() == 0


@needs_cython
def test_the_gather_pool_keeps_a_bounded_number_of_blocks_and_frees_resized_results():
    from minigrad import _kernels

    _kernels.release_pool()
    weight = np.ones((10, 32))
    results = [kernels.gather(weight, np.zeros(4_096 + k, np.int64)) for k in range(6)]   # 1-1.01 MiB each
    small = kernels.gather(weight, np.zeros(10, np.int64))                              # below the pool
    results[0].resize((2, 32), refcheck=False)                                         # realloc'ed: leaves the pool's sizes
    for k in range(6):                                                                 # freed in this order
        results[k] = None
    del small
    kept = _kernels.release_pool()
    assert kept == sum((4_096 + k) * 32 * 8 for k in range(2, 6))   # the 4 last freed blocks of 1 MiB or more
    fresh = kernels.gather(weight, np.zeros(4_096, np.int64))
    np.testing.assert_array_equal(fresh, np.ones((4_096, 32)))


@pytest.mark.skipif(not os.environ.get("CI"), reason="only CI promises a compiled build")
def test_ci_builds_the_compiled_kernels_so_no_kernel_test_is_skipped_there():
    # `pip install -e .` compiles the extension; if it silently did not, every
    # Cython-vs-NumPy comparison above would skip and CI would still pass.
    assert HAVE_CYTHON, "the Cython extension was not built: `pip install -e .` should compile it"
