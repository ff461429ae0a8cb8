# cython: language_level=3
# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled kernels: gather and index-add (an Embedding's two halves), plus fused loops.

The file holds, in this order:

* **gather** and **index-add**, the two kernels behind :func:`minigrad.kernels.gather`
  and :func:`minigrad.kernels.index_add` (Embedding forward and backward, integer
  indexing, sparse-gradient coalescing);
* **fused loops** for the optimizers (Adam/AdamW, SGD, SparseAdam row updates) and
  for EmbeddingBag's sum/mean forward and backward: each does in one pass over
  memory what NumPy would do in several passes with temporaries.

Nothing but :mod:`minigrad.kernels` imports this module. That door checks every
argument (dtypes, shapes, contiguity of the output, operands that overlap) *before*
calling in here, and every entry point below checks that each index lies in
``[0, V)`` before its first write. Only because of those checks are Cython's
bounds checks and negative-index wrap-around switched off for the whole file.

Gather (Embedding forward)
--------------------------
For a weight matrix ``W`` of shape ``(V, D)`` and ``N`` row indices::

    out[i, :] = W[idx[i], :]            for i in 0 .. N-1

Every output row is written exactly once, so the rows can be shared out
among threads freely.

Index-add (Embedding backward)
------------------------------
The gradient of the gather sends each output-gradient row back to the row it
was read from; a row looked up ``k`` times receives the sum of ``k`` rows::

    out[idx[i], :] += src[i, :]         for i in 0 .. N-1, in order

It must *accumulate*. NumPy's fancy-index assignment does not::

    >>> a = np.zeros(3); idx = np.array([0, 0, 2])
    >>> a[idx] += 1.0            # reads a[idx], adds, writes back: last write wins
    >>> a                        # row 0 was hit twice but counts once
    array([1., 0., 1.])

``np.add.at(a, idx, 1.0)`` gives the right ``[2., 0., 1.]`` but is slow; this
module does the same sum in a plain loop.

Duplicates also decide how index-add may use threads: two threads adding into
the same row at once would lose updates. Depending on the shape one of four
race-free strategies is used (see ``_index_add_dispatch``):

* serial                 small work: a parallel region costs more than it saves;
* split the columns      wide rows: every thread walks all indices but owns a
                         slice of the D columns;
* split the rows         narrow rows: every thread walks all indices but only
                         adds into the rows it owns;
* private buffers        many more indices than rows: every thread sums its
                         share of the indices into its own (V, D) buffer and the
                         buffers are added up at the end.

The first three give bit-for-bit the result of the serial loop (each output
element receives its terms in index order). Private buffers add the partial
sums in a different order, so results can differ in the last bits; for a given
thread count they are still deterministic.

Thread counts come from the door; without OpenMP every ``prange`` below runs
serially and the results are the same.
"""

cimport cython
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.math cimport sqrt, sqrtf
from libc.stdlib cimport calloc, free

cimport numpy as cnp

cnp.import_array()

cdef extern from *:
    """
    #ifdef _OPENMP
    #define MINIGRAD_HAVE_OPENMP 1
    #else
    #define MINIGRAD_HAVE_OPENMP 0
    #endif
    """
    const int MINIGRAD_HAVE_OPENMP

#: True when the extension was compiled with OpenMP (otherwise prange is serial).
HAVE_OPENMP = bool(MINIGRAD_HAVE_OPENMP)

ctypedef fused value_t:
    float
    double

ctypedef fused index_t:
    int32_t
    int64_t

# ---------------------------------------------------------------------------
# Dtype dispatch: the one place that maps arrays to a compiled version.
#
# Each entry point below is a fused ``def``: written once, compiled by Cython
# once per (value, index) type pair. Calling the fused function itself would
# make Cython inspect the buffers' formats (about 2 us, as long as a small
# lookup takes in all), so each entry point keeps a tuple of its compiled
# versions and ``_version`` picks one from the arrays' type numbers.
# ---------------------------------------------------------------------------

cdef tuple _versions(kernel):
    """A fused ``def``'s compiled versions, in the order :func:`_version` indexes them."""
    signatures = kernel.__signatures__
    if len(signatures) == 2:                         # fused over the values only
        return (signatures["float"], signatures["double"])
    return tuple(signatures[s] for s in ("float|int32_t", "float|int64_t", "double|int32_t", "double|int64_t"))


cdef inline object _version(tuple versions, cnp.ndarray values, cnp.ndarray idx=None):
    """The version for ``values`` (float32/float64) and ``idx`` (int32/int64), as the door guarantees."""
    cdef int k = cnp.PyArray_TYPE(values) == cnp.NPY_FLOAT64
    if idx is None:
        return versions[k]
    return versions[2 * k + (cnp.PyArray_TYPE(idx) != cnp.NPY_INT32)]


# ---------------------------------------------------------------------------
# Tuning constants. "Work" is N * D elements moved. Measured on a shared
# 2-core x86-64 machine (see benchmarks/bench_kernels.py); re-measure on other
# hardware.
# ---------------------------------------------------------------------------

cdef enum:
    #: Below this much work a loop runs on one thread: starting an OpenMP team
    #: costs several microseconds, which is all a 64k-element copy takes. (A floor:
    #: by default the door asks for threads only from 16M elements, see
    #: ``minigrad.kernels.PARALLEL_MIN_WORK``.)
    PARALLEL_MIN_WORK = 1 << 16

    #: Index-add splits columns when a row is at least this many bytes, so every
    #: thread owns whole cache lines of each row (no false sharing).
    COLUMN_SPLIT_MIN_BYTES = 256

    #: Index-add uses private per-thread buffers when N >= this times V: the
    #: extra cost of zeroing and summing T-1 buffers of V rows is then small.
    PRIVATE_MIN_RATIO = 4
    #: ... and only while the buffers together stay below this many bytes.
    PRIVATE_MAX_BYTES = 1 << 28
    #: Narrow rows and few repeats: splitting rows among owners only pays once
    #: ``out`` is far bigger than the caches (V=1M, D=16, N=1M float32: 22 ms
    #: vs 24 ms serial; V=50k: serial is faster).
    ROWS_MIN_OUT_BYTES = 1 << 24
    #: Rows are handed to owners in interleaved blocks of this many rows, so a
    #: skewed index distribution (hot rows with small ids) is shared out.
    OWNER_BLOCK_ROWS = 8

# Index-add strategies; the entry point accepts one to force it (tests, benchmarks).
cdef enum:
    STRATEGY_AUTO = -1
    STRATEGY_SERIAL = 0
    STRATEGY_COLUMNS = 1
    STRATEGY_ROWS = 2
    STRATEGY_PRIVATE = 3

#: Strategy names for the door, tests and benchmarks.
STRATEGIES = {"auto": STRATEGY_AUTO, "serial": STRATEGY_SERIAL, "columns": STRATEGY_COLUMNS,
              "rows": STRATEGY_ROWS, "private": STRATEGY_PRIVATE}


# ---------------------------------------------------------------------------
# Row helpers. A "row" is D values; the source may have any strides (read-only
# operands are never copied just to make them contiguous), the destination is
# always contiguous.
# ---------------------------------------------------------------------------

cdef inline const value_t* _row(const value_t* base, Py_ssize_t row_stride, Py_ssize_t r) noexcept nogil:
    """Address of row ``r``; strides are in bytes and may be negative."""
    return <const value_t*>(<const char*>base + r * row_stride)


cdef inline void _copy_row(value_t* dst, const value_t* src, Py_ssize_t col_stride,
                           Py_ssize_t d) noexcept nogil:
    cdef Py_ssize_t j
    if col_stride == sizeof(value_t):
        for j in range(d):          # contiguous: the compiler vectorises this
            dst[j] = src[j]
    else:
        for j in range(d):
            dst[j] = (<const value_t*>(<const char*>src + j * col_stride))[0]


cdef inline void _add_row(value_t* dst, const value_t* src, Py_ssize_t col_stride,
                          Py_ssize_t j0, Py_ssize_t j1) noexcept nogil:
    """dst[j] += src[j] for j in [j0, j1)."""
    cdef Py_ssize_t j
    if col_stride == sizeof(value_t):
        for j in range(j0, j1):
            dst[j] += src[j]
    else:
        for j in range(j0, j1):
            dst[j] += (<const value_t*>(<const char*>src + j * col_stride))[0]


# ---------------------------------------------------------------------------
# Bounds check: one branch-free pass, then a second only on failure.
# ---------------------------------------------------------------------------

cdef Py_ssize_t _first_out_of_range(const index_t[:] idx, Py_ssize_t n_rows) noexcept nogil:
    """Position of the first index outside [0, n_rows), or -1.

    Casting to unsigned maps every negative index to a huge value, so a single
    comparison catches both ends; int32 is widened to int64 first, so nothing
    wraps around.
    """
    cdef Py_ssize_t i, n = idx.shape[0]
    cdef uint64_t limit = <uint64_t>n_rows
    cdef int bad = 0
    for i in range(n):
        bad |= <uint64_t><int64_t>idx[i] >= limit
    if not bad:
        return -1
    for i in range(n):
        if <uint64_t><int64_t>idx[i] >= limit:
            return i
    return -1


# ---------------------------------------------------------------------------
# Gather
# ---------------------------------------------------------------------------

cdef void _gather(const value_t[:, :] weight, const index_t[:] idx, value_t[:, ::1] out,
                  int num_threads) noexcept nogil:
    cdef Py_ssize_t n = idx.shape[0], d = out.shape[1], i
    cdef Py_ssize_t row_stride = weight.strides[0], col_stride = weight.strides[1]
    cdef const value_t* base = &weight[0, 0]
    if num_threads <= 1 or n * d < PARALLEL_MIN_WORK:
        # A separate serial loop: even a disabled (`if(0)`) OpenMP region costs ~1 us.
        for i in range(n):
            _copy_row(&out[i, 0], _row(base, row_stride, idx[i]), col_stride, d)
    else:
        # Each output row is written by exactly one iteration: no races. Guided chunks:
        # a thread that starts late (descheduled by another process) finds the rows
        # already taken instead of holding back its fixed share.
        for i in prange(n, schedule="guided", num_threads=num_threads):
            _copy_row(&out[i, 0], _row(base, row_stride, idx[i]), col_stride, d)


cdef Py_ssize_t _gather_checked_nogil(const value_t[:, :] weight, const index_t[:] idx,
                                      value_t[:, ::1] out, int num_threads) noexcept nogil:
    cdef Py_ssize_t bad = _first_out_of_range(idx, weight.shape[0])
    if bad < 0 and idx.shape[0] > 0 and out.shape[1] > 0:
        _gather(weight, idx, out, num_threads)
    return bad


def _gather_checked(const value_t[:, :] weight, const index_t[:] idx, value_t[:, ::1] out,
                   int num_threads):
    # The door checks shapes with friendlier messages; this only keeps a wrong
    # call from touching memory outside the arrays.
    if out.shape[0] != idx.shape[0] or out.shape[1] != weight.shape[1]:
        raise ValueError("gather: out must have shape (len(idx), weight.shape[1])")
    # Releasing the GIL costs about 0.1 us: only worth it when there is real work.
    if idx.shape[0] * out.shape[1] < PARALLEL_MIN_WORK:
        return _gather_checked_nogil(weight, idx, out, num_threads)
    cdef Py_ssize_t bad
    with nogil:
        bad = _gather_checked_nogil(weight, idx, out, num_threads)
    return bad


cdef tuple _GATHER = _versions(_gather_checked)


def gather(cnp.ndarray weight not None, cnp.ndarray idx not None, cnp.ndarray out not None,
           int num_threads=1):
    """out[i, :] = weight[idx[i], :]; returns -1, or the position of a bad index.

    The door guarantees: weight 2-D float32/float64, idx 1-D int32/int64,
    out C-contiguous (len(idx), D) of weight's dtype, not overlapping weight or
    idx. Nothing is written when an index is out of range.
    """
    return _version(_GATHER, weight, idx)(weight, idx, out, num_threads)


# ---------------------------------------------------------------------------
# Index-add
# ---------------------------------------------------------------------------

cdef void _index_add_serial(value_t[:, ::1] out, const index_t[:] idx, const value_t[:, :] src,
                            Py_ssize_t i0, Py_ssize_t i1, Py_ssize_t j0, Py_ssize_t j1) noexcept nogil:
    """out[idx[i], j] += src[i, j] for i in [i0, i1), j in [j0, j1), in index order."""
    cdef Py_ssize_t i
    cdef Py_ssize_t row_stride = src.strides[0], col_stride = src.strides[1]
    cdef const value_t* base = &src[0, 0]
    for i in range(i0, i1):
        _add_row(&out[idx[i], 0], _row(base, row_stride, i), col_stride, j0, j1)


cdef void _index_add_owned_rows(value_t[:, ::1] out, const index_t[:] idx, const value_t[:, :] src,
                                int owner, int n_owners) noexcept nogil:
    """Like the serial loop, but only for the rows whose block belongs to ``owner``."""
    cdef Py_ssize_t i, r, n = idx.shape[0], d = out.shape[1]
    cdef Py_ssize_t row_stride = src.strides[0], col_stride = src.strides[1]
    cdef const value_t* base = &src[0, 0]
    for i in range(n):
        r = idx[i]
        if (r // OWNER_BLOCK_ROWS) % n_owners == owner:
            _add_row(&out[r, 0], _row(base, row_stride, i), col_stride, 0, d)


cdef int _index_add_private(value_t[:, ::1] out, const index_t[:] idx, const value_t[:, :] src,
                            int num_threads) noexcept nogil:
    """Per-thread (V, D) buffers; thread 0 adds straight into ``out``. 0 if out of memory."""
    cdef Py_ssize_t n = idx.shape[0], n_rows = out.shape[0], d = out.shape[1]
    cdef Py_ssize_t size = n_rows * d, i, r, t, j, i0, i1
    cdef int T = num_threads
    cdef int k
    cdef Py_ssize_t row_stride = src.strides[0], col_stride = src.strides[1]
    cdef const value_t* base = &src[0, 0]
    cdef value_t* target
    cdef value_t* acc
    # calloc hands back zeroed pages lazily, so untouched rows cost little.
    cdef value_t* buffers = <value_t*>calloc((T - 1) * size, sizeof(value_t))
    if buffers == NULL:
        return 0
    for t in prange(T, schedule="static", chunksize=1, num_threads=T):
        i0 = n * t // T
        i1 = n * (t + 1) // T
        target = &out[0, 0] if t == 0 else buffers + (t - 1) * size
        for i in range(i0, i1):
            acc = target + idx[i] * d
            _add_row(acc, _row(base, row_stride, i), col_stride, 0, d)
    # Reduce: out[r] += buffer_1[r] + ... ; rows are independent.
    for r in prange(n_rows, schedule="static", num_threads=T):
        for k in range(T - 1):
            acc = buffers + k * size + r * d
            for j in range(d):
                out[r, j] += acc[j]
    free(buffers)
    return 1


cdef int _choose_strategy(Py_ssize_t n, Py_ssize_t n_rows, Py_ssize_t d, Py_ssize_t itemsize,
                          int num_threads) noexcept nogil:
    if num_threads <= 1 or not MINIGRAD_HAVE_OPENMP or n * d < PARALLEL_MIN_WORK:
        return STRATEGY_SERIAL
    if n >= PRIVATE_MIN_RATIO * n_rows and (num_threads - 1) * n_rows * d * itemsize <= PRIVATE_MAX_BYTES:
        return STRATEGY_PRIVATE
    if d * itemsize >= COLUMN_SPLIT_MIN_BYTES:
        return STRATEGY_COLUMNS
    if n_rows * d * itemsize >= ROWS_MIN_OUT_BYTES:
        return STRATEGY_ROWS
    return STRATEGY_SERIAL


cdef void _index_add_dispatch(value_t[:, ::1] out, const index_t[:] idx, const value_t[:, :] src,
                              int num_threads, int strategy) noexcept nogil:
    cdef Py_ssize_t n = idx.shape[0], d = out.shape[1], t, j0, j1, n_blocks
    cdef Py_ssize_t block = 64 // sizeof(value_t)     # one cache line of values
    cdef int T = num_threads if num_threads > 1 else 1
    if strategy == STRATEGY_AUTO:
        strategy = _choose_strategy(n, out.shape[0], d, sizeof(value_t), T)
    if strategy == STRATEGY_PRIVATE and T > 1:
        if _index_add_private(out, idx, src, T):
            return
        strategy = STRATEGY_ROWS                     # out of memory: fall back
    if strategy == STRATEGY_COLUMNS and T > 1:
        # Thread t owns whole cache-line blocks of columns [j0, j1) of every row.
        n_blocks = (d + block - 1) // block
        for t in prange(T, schedule="static", chunksize=1, num_threads=T):
            j0 = min(d, (n_blocks * t // T) * block)
            j1 = min(d, (n_blocks * (t + 1) // T) * block)
            _index_add_serial(out, idx, src, 0, n, j0, j1)
    elif strategy == STRATEGY_ROWS and T > 1:
        for t in prange(T, schedule="static", chunksize=1, num_threads=T):
            _index_add_owned_rows(out, idx, src, t, T)
    else:
        _index_add_serial(out, idx, src, 0, n, 0, d)


cdef Py_ssize_t _index_add_checked_nogil(value_t[:, ::1] out, const index_t[:] idx,
                                         const value_t[:, :] src, int num_threads,
                                         int strategy) noexcept nogil:
    cdef Py_ssize_t bad = _first_out_of_range(idx, out.shape[0])
    if bad < 0 and idx.shape[0] > 0 and out.shape[1] > 0:
        _index_add_dispatch(out, idx, src, num_threads, strategy)
    return bad


def _index_add_checked(value_t[:, ::1] out, const index_t[:] idx, const value_t[:, :] src,
                       int num_threads, int strategy):
    if src.shape[0] != idx.shape[0] or src.shape[1] != out.shape[1]:
        raise ValueError("index_add: src must have shape (len(idx), out.shape[1])")
    if idx.shape[0] * out.shape[1] < PARALLEL_MIN_WORK and strategy == STRATEGY_AUTO:
        return _index_add_checked_nogil(out, idx, src, num_threads, strategy)
    cdef Py_ssize_t bad
    with nogil:
        bad = _index_add_checked_nogil(out, idx, src, num_threads, strategy)
    return bad


cdef tuple _INDEX_ADD = _versions(_index_add_checked)


def index_add(cnp.ndarray out not None, cnp.ndarray idx not None, cnp.ndarray src not None,
              int num_threads=1, int strategy=-1):
    """out[idx[i], :] += src[i, :] in place; returns -1, or the position of a bad index.

    The door guarantees: out C-contiguous 2-D float32/float64 and writable,
    idx 1-D int32/int64, src (len(idx), D) of out's dtype (any strides), neither
    overlapping out. Nothing is written when an index is out of range.
    ``strategy`` forces one of the STRATEGY_* codes (for tests and benchmarks).
    """
    return _version(_INDEX_ADD, out, idx)(out, idx, src, num_threads, strategy)


# ---------------------------------------------------------------------------
# Fused kernels: one pass over memory where NumPy would make several.
#
# A training step of a small model is a few dozen small array operations, and
# in NumPy each is a separate pass over memory with its own temporary. These
# loops do the same arithmetic, in the same order and precision as PyTorch's
# CPU kernels, element by element in one pass. They run on one thread: their
# work is a few hundred thousand elements, where starting OpenMP threads (and
# competing with BLAS's threads for the cores) costs more than it saves.
# The door (minigrad/kernels.py) checks shapes, dtypes and contiguity first.
# ---------------------------------------------------------------------------

cdef inline value_t _sqrt(value_t x) noexcept nogil:
    # sqrtf for float32: the double sqrt would round the same but costs two conversions
    # and keeps the compiler from vectorising the loop.
    if value_t is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline value_t _lerp(value_t a, value_t b, value_t w) noexcept nogil:
    """torch.lerp's rounding: evaluate from the nearer end, so w = 1 gives exactly b."""
    if w < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1 - w)


def _adam(value_t[::1] p, const value_t[::1] g, value_t[::1] m, value_t[::1] v,
          value_t[::1] vmax, bint amsgrad, bint maximize, double weight_decay,
          bint decoupled, double lr, double beta1, double beta2, double step_size,
          double bc2_sqrt, double eps):
    # Scalars are rounded to the array's precision once, as PyTorch's kernels do.
    cdef value_t w1 = <value_t>(1 - beta1), b2 = <value_t>beta2, c2 = <value_t>(1 - beta2)
    cdef value_t wd = <value_t>weight_decay, decay = <value_t>(1 - lr * weight_decay)
    cdef value_t neg_step = <value_t>(-step_size), bc2s = <value_t>bc2_sqrt, e = <value_t>eps
    cdef value_t gi, pi, mi, vi
    cdef Py_ssize_t i, n = p.shape[0]
    if n == 0:
        return
    # Raw pointers: memoryview indexing would hide from the compiler that the loop is a
    # plain stream over arrays, and it would not vectorise it.
    cdef value_t* pp = &p[0]
    cdef const value_t* gp = &g[0]
    cdef value_t* mp = &m[0]
    cdef value_t* vp = &v[0]
    if not (amsgrad or maximize or weight_decay != 0):
        # The default options: no branch in the loop, so it is vectorised.
        for i in range(n):
            gi = gp[i]
            mi = _lerp(mp[i], gi, w1)                # m ← lerp(m, g, 1 − β₁)
            mp[i] = mi
            vi = vp[i] * b2 + c2 * gi * gi           # v ← β₂v + (1 − β₂)g²  (two roundings)
            vp[i] = vi
            # θ ← θ − step_size · m / (√v / √(1 − β₂ᵗ) + eps)   (addcdiv's order: (s·m)/d)
            pp[i] = pp[i] + neg_step * mi / (_sqrt(vi) / bc2s + e)
        return
    for i in range(n):                               # the same, with every option
        gi = -gp[i] if maximize else gp[i]
        pi = pp[i]
        if weight_decay != 0:
            if decoupled:
                pi = pi * decay                      # θ ← θ(1 − lr λ)
            else:
                gi = gi + wd * pi                    # g ← g + λθ
        mi = _lerp(mp[i], gi, w1)
        mp[i] = mi
        vi = vp[i] * b2 + c2 * gi * gi
        vp[i] = vi
        if amsgrad:
            if vmax[i] > vi:
                vi = vmax[i]
            vmax[i] = vi                             # v̂ ← max(v̂, v)
        pp[i] = pi + neg_step * mi / (_sqrt(vi) / bc2s + e)


cdef tuple _ADAM = _versions(_adam)


def adam(cnp.ndarray p not None, cnp.ndarray g not None, cnp.ndarray m not None,
         cnp.ndarray v not None, cnp.ndarray vmax not None, bint amsgrad, bint maximize,
         double weight_decay, bint decoupled, double lr, double beta1, double beta2,
         double step_size, double bc2_sqrt, double eps):
    """One Adam step on flat C-contiguous arrays of one dtype (vmax: empty unless amsgrad)."""
    _version(_ADAM, p)(p, g, m, v, vmax, amsgrad, maximize, weight_decay, decoupled, lr, beta1,
                       beta2, step_size, bc2_sqrt, eps)


def _sgd(value_t[::1] p, const value_t[::1] g, value_t[::1] buf, bint has_momentum,
         bint first, double lr, double momentum, double dampening, double weight_decay,
         bint nesterov, bint maximize):
    cdef value_t mu = <value_t>momentum, damp = <value_t>(1 - dampening)
    cdef value_t wd = <value_t>weight_decay, neg_lr = <value_t>(-lr)
    cdef value_t gi, bi
    cdef Py_ssize_t i, n = p.shape[0]
    if n == 0:
        return
    cdef value_t* pp = &p[0]
    cdef const value_t* gp = &g[0]
    cdef value_t* bp = &buf[0] if has_momentum else NULL
    if has_momentum and not (first or nesterov or maximize or weight_decay != 0):
        # Plain momentum after the first step: a branch-free, vectorised loop.
        for i in range(n):
            bi = bp[i] * mu + damp * gp[i]           # b ← μb + (1 − τ)g
            bp[i] = bi
            pp[i] = pp[i] + neg_lr * bi              # θ ← θ − lr·b
        return
    for i in range(n):                               # the same, with every option
        gi = -gp[i] if maximize else gp[i]
        if weight_decay != 0:
            gi = gi + wd * pp[i]                     # g ← g + λθ
        if has_momentum:
            if first:
                bi = gi                              # b ← g at the first step
            else:
                bi = bp[i] * mu + damp * gi
            bp[i] = bi
            gi = gi + mu * bi if nesterov else bi
        pp[i] = pp[i] + neg_lr * gi


cdef tuple _SGD = _versions(_sgd)


def sgd(cnp.ndarray p not None, cnp.ndarray g not None, cnp.ndarray buf not None,
        bint has_momentum, bint first, double lr, double momentum, double dampening,
        double weight_decay, bint nesterov, bint maximize):
    """One SGD step on flat C-contiguous arrays of one dtype (buf: empty without momentum)."""
    _version(_SGD, p)(p, g, buf, has_momentum, first, lr, momentum, dampening, weight_decay,
                      nesterov, maximize)


def _bag_sum(const value_t[:, ::1] weight, const index_t[:] idx,
             const int64_t[::1] starts, const int64_t[::1] lengths,
             const value_t[::1] scale, const value_t[::1] psw, int64_t padding_idx,
             value_t[:, ::1] out):
    """out[b] = scale[b] · Σ_{i ∈ bag b, idx_i ≠ pad} psw[i] · W[idx[i]]; -1 or a bad position."""
    cdef Py_ssize_t bad = _first_out_of_range(idx, weight.shape[0])
    if bad >= 0:
        return bad
    cdef Py_ssize_t b, i, j, d = weight.shape[1]
    cdef bint has_scale = scale.shape[0] > 0, has_psw = psw.shape[0] > 0
    cdef value_t s, wi
    cdef value_t* o
    cdef const value_t* row
    for b in range(starts.shape[0]):
        o = &out[b, 0]
        for j in range(d):
            o[j] = 0
        for i in range(starts[b], starts[b] + lengths[b]):
            if idx[i] == padding_idx:
                continue
            row = &weight[idx[i], 0]
            if has_psw:
                wi = psw[i]
                for j in range(d):
                    o[j] += wi * row[j]
            else:
                for j in range(d):
                    o[j] += row[j]
        if has_scale:
            s = scale[b]
            for j in range(d):
                o[j] *= s
    return -1


cdef tuple _BAG_SUM = _versions(_bag_sum)


cdef int _check_bags(const int64_t[::1] starts, const int64_t[::1] lengths, Py_ssize_t n) except -1:
    """The bags must lie inside idx: the bag loops below read idx without bounds checks."""
    cdef Py_ssize_t b
    if lengths.shape[0] != starts.shape[0]:
        raise ValueError("bags: starts and lengths differ in length")
    for b in range(starts.shape[0]):
        # `lengths[b] > n - starts[b]`, not `starts[b] + lengths[b] > n`: the sum of
        # two int64 can overflow (undefined behaviour in C) and pass the check.
        if starts[b] < 0 or lengths[b] < 0 or starts[b] > n or lengths[b] > n - starts[b]:
            raise ValueError(f"bag {b} (start {starts[b]}, length {lengths[b]}) is not inside idx of length {n}")
    return 0


def bag_sum(cnp.ndarray weight not None, cnp.ndarray idx not None, cnp.ndarray starts not None,
            cnp.ndarray lengths not None, cnp.ndarray scale not None, cnp.ndarray psw not None,
            int64_t padding_idx, cnp.ndarray out not None):
    """EmbeddingBag sum/mean forward (scale, psw: empty when absent); -1 or a bad position.

    The door guarantees: weight C-contiguous (V, D) float32/float64; idx 1-D int32/int64;
    starts, lengths int64 C-contiguous; scale (B,) and psw (n,) of weight's dtype or empty;
    out C-contiguous (B, D). Nothing is written when an index is out of range.
    """
    _check_bags(starts, lengths, idx.shape[0])
    if scale.shape[0] not in (0, starts.shape[0]) or psw.shape[0] not in (0, idx.shape[0]) \
            or out.shape[0] != starts.shape[0] or out.shape[1] != weight.shape[1]:
        raise ValueError("bag_sum: inconsistent shapes")
    return _version(_BAG_SUM, weight, idx)(weight, idx, starts, lengths, scale, psw, padding_idx, out)


def _bag_sum_backward(const value_t[:, ::1] grad, const index_t[:] idx,
                      const int64_t[::1] starts, const int64_t[::1] lengths,
                      const value_t[::1] scale, int64_t padding_idx, value_t[:, ::1] out):
    """out[idx[i]] += scale[b] · grad[b] for every non-pad entry i of bag b, in index order."""
    cdef Py_ssize_t bad = _first_out_of_range(idx, out.shape[0])
    if bad >= 0:
        return bad
    cdef Py_ssize_t b, i, j, d = grad.shape[1]
    cdef bint has_scale = scale.shape[0] > 0
    cdef value_t s
    cdef value_t* o
    cdef const value_t* gb
    for b in range(starts.shape[0]):
        gb = &grad[b, 0]
        s = scale[b] if has_scale else 1
        for i in range(starts[b], starts[b] + lengths[b]):
            if idx[i] == padding_idx:
                continue
            o = &out[idx[i], 0]
            if has_scale:
                for j in range(d):
                    o[j] += gb[j] * s
            else:
                for j in range(d):
                    o[j] += gb[j]
    return -1


cdef tuple _BAG_SUM_BACKWARD = _versions(_bag_sum_backward)


def bag_sum_backward(cnp.ndarray grad not None, cnp.ndarray idx not None,
                     cnp.ndarray starts not None, cnp.ndarray lengths not None,
                     cnp.ndarray scale not None, int64_t padding_idx, cnp.ndarray out not None):
    """EmbeddingBag sum/mean backward: ``out[idx[i]] += scale[b] * grad[b]``; -1 or a bad position.

    Same guarantees as :func:`bag_sum`, with grad C-contiguous (B, D) and out C-contiguous
    (V, D) of grad's dtype. Nothing is written when an index is out of range.
    """
    _check_bags(starts, lengths, idx.shape[0])
    if scale.shape[0] not in (0, starts.shape[0]) or grad.shape[0] != starts.shape[0] \
            or out.shape[1] != grad.shape[1]:
        raise ValueError("bag_sum_backward: inconsistent shapes")
    return _version(_BAG_SUM_BACKWARD, grad, idx)(grad, idx, starts, lengths, scale, padding_idx, out)


def _sparse_adam(value_t[:, ::1] p, value_t[:, ::1] m, value_t[:, ::1] v,
                 const index_t[:] idx, const value_t[:, ::1] vals, double beta1,
                 double beta2, double step_size, double eps):
    # PyTorch's SparseAdam, row by row, with its rounding: the moment updates are formed
    # first, then added; the new moments are the old ones plus those updates.
    cdef Py_ssize_t bad = _first_out_of_range(idx, p.shape[0])
    if bad >= 0:
        return bad
    cdef value_t c1 = <value_t>(1 - beta1), c2 = <value_t>(1 - beta2)
    cdef value_t neg_step = <value_t>(-step_size), e = <value_t>eps
    cdef value_t gj, um, uv, mo, vo
    cdef Py_ssize_t k, j, r, d = p.shape[1]
    cdef value_t* pr
    cdef value_t* mr
    cdef value_t* vr
    cdef const value_t* gr
    for k in range(idx.shape[0]):
        r = idx[k]
        pr, mr, vr, gr = &p[r, 0], &m[r, 0], &v[r, 0], &vals[k, 0]
        for j in range(d):
            gj, mo, vo = gr[j], mr[j], vr[j]
            um = (gj - mo) * c1                      # m_R ← m_R + (1 − β₁)(g − m_R)
            mr[j] = mo + um
            uv = (gj * gj - vo) * c2                 # v_R ← v_R + (1 − β₂)(g² − v_R)
            vr[j] = vo + uv
            # θ_R ← θ_R − step_size · m_R / (√v_R + eps)
            pr[j] = pr[j] + ((um + mo) / (_sqrt(uv + vo) + e)) * neg_step
    return -1


cdef tuple _SPARSE_ADAM = _versions(_sparse_adam)


def sparse_adam(cnp.ndarray p not None, cnp.ndarray m not None, cnp.ndarray v not None,
                cnp.ndarray idx not None, cnp.ndarray vals not None, double beta1, double beta2,
                double step_size, double eps):
    """SparseAdam on the rows ``idx`` (unique: a coalesced gradient); -1 or a bad position.

    The door guarantees: p, m, v C-contiguous (V, D) of one dtype, vals C-contiguous
    (len(idx), D) of that dtype, idx 1-D int32/int64. Nothing is written when an index
    is out of range.
    """
    if vals.shape[0] != idx.shape[0] or vals.shape[1] != p.shape[1] or m.shape[0] != p.shape[0] \
            or v.shape[0] != p.shape[0] or m.shape[1] != p.shape[1] or v.shape[1] != p.shape[1]:
        raise ValueError("sparse_adam: inconsistent shapes")
    return _version(_SPARSE_ADAM, p, idx)(p, m, v, idx, vals, beta1, beta2, step_size, eps)
