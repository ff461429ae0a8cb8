# cython: language_level=3
# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled kernels: gather and index-add (an Embedding's two halves), plus fused loops.

The file holds, in this order:

* **gather** and **index-add**, the two kernels behind :func:`minigrad.kernels.gather`
  and :func:`minigrad.kernels.index_add` (Embedding forward and backward, integer
  indexing, sparse-gradient coalescing);
* **fused loops** for the optimizers (Adam/AdamW, SGD, SparseAdam row updates) and
  for EmbeddingBag's sum/mean forward and backward, GELU (tanh form) and LayerNorm:
  each does in one pass over memory what NumPy would do in several passes with
  temporaries.

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
the same row at once would lose updates. There are four race-free strategies
(see ``_index_add_dispatch``):

* serial                 the default: one pass in index order;
* private buffers        many more indices than rows: every thread sums its
                         share of the indices into its own (V, D) buffer and the
                         buffers are added up at the end (chosen for large work);
* split the columns      every thread walks all indices but owns a slice of the
                         D columns;
* split the rows         every thread walks all indices but only adds into the
                         rows it owns.

The last two are never chosen on their own (see ``_choose_strategy``); tests and
``benchmarks/bench_kernels.py --strategies`` force them.

Serial, columns and rows give bit-for-bit the result of the serial loop (each output
element receives its terms in index order). Private buffers add the partial
sums in a different order, so results can differ in the last bits; for a given
thread count they are still deterministic.

Thread counts come from the door; without OpenMP every ``prange`` below runs
serially and the results are the same.
"""

cimport cython
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.math cimport log, sqrt, sqrtf
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy

cimport numpy as cnp
import numpy as np

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

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define minigrad_prefetch_for_write(p) __builtin_prefetch((p), 1, 3)
    #else
    #define minigrad_prefetch_for_write(p) ((void)(p))
    #endif
    """
    void _prefetch_for_write "minigrad_prefetch_for_write"(const void* p) noexcept nogil
    void _prefetch_for_read "minigrad_prefetch_for_read"(const void* p) noexcept nogil

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define minigrad_prefetch_for_read(p) __builtin_prefetch((p), 0, 3)
    #else
    #define minigrad_prefetch_for_read(p) ((void)(p))
    #endif

    /* Row additions written with SSE2 intrinsics (part of every x86-64 CPU): adding
     * rows through restrict pointers in 16-byte steps made index-add of 16-float rows
     * 1.25-1.6x faster than the loop the compiler vectorised itself, which first
     * tests at run time whether the two rows overlap (standalone C loops, gcc -O3,
     * 2-core x86-64, tables of 1000 and 50000 rows, 65536 indices, CPU time,
     * interleaved; inside the kernels, on a machine shared with a dozen busy
     * processes, within the noise). Other CPUs get plain loops. Each element is
     * added once, in the same order, so results are bit for bit those of a scalar
     * loop. (Copying rows the same way, 16 bytes at a time, lost to a memcpy call
     * per row on 128-float rows in the benchmark grid: 0.72-0.87 of np.take.) */
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif

    static inline void minigrad_add_row_f32(float* __restrict dst, const float* __restrict src,
                                            Py_ssize_t d) {
        Py_ssize_t j = 0;
    #if defined(__SSE2__)
        for (; j + 4 <= d; j += 4)
            _mm_storeu_ps(dst + j, _mm_add_ps(_mm_loadu_ps(dst + j), _mm_loadu_ps(src + j)));
    #endif
        for (; j < d; j++)
            dst[j] += src[j];
    }

    static inline void minigrad_add_row_f64(double* __restrict dst, const double* __restrict src,
                                            Py_ssize_t d) {
        Py_ssize_t j = 0;
    #if defined(__SSE2__)
        for (; j + 2 <= d; j += 2)
            _mm_storeu_pd(dst + j, _mm_add_pd(_mm_loadu_pd(dst + j), _mm_loadu_pd(src + j)));
    #endif
        for (; j < d; j++)
            dst[j] += src[j];
    }
    """
    void _add_row_f32 "minigrad_add_row_f32"(float* dst, const float* src, Py_ssize_t d) noexcept nogil
    void _add_row_f64 "minigrad_add_row_f64"(double* dst, const double* src, Py_ssize_t d) noexcept nogil

#: True when the extension was compiled with OpenMP (otherwise prange is serial).
HAVE_OPENMP = bool(MINIGRAD_HAVE_OPENMP)


# ---------------------------------------------------------------------------
# Output pool: memory for large gather results, reused instead of faulted in.
#
# A gather that returns a new (N, D) array writes every byte of it, yet most of
# its time on large outputs went into getting the memory: the C library maps
# large blocks fresh from the kernel on every call, and the kernel zeroes each
# page as it is first written. A training loop frees the previous step's output
# just before it asks for one of the same size. Interleaved on a shared 2-core
# x86-64 machine (N = 65536 rows of 128 floats, 32-64 MB): gather into reused
# memory took 0.55-0.68 of the time of the same gather into fresh memory
# (np.take, which gets fresh memory, 1.4-1.8x the reused case).
#
# The pool is a NumPy memory handler (NEP 49) that only :func:`empty_rows` puts
# in effect, around the allocation of a gather result of POOL_MIN_BYTES to
# POOL_MAX_BLOCK_BYTES. Such an array remembers its handler, so when it is
# freed its block goes back to one of POOL_SLOTS slots (the oldest block is
# released when all are taken) instead of to the system; a later request of
# exactly the same size takes it. NumPy's own handler does the real allocating
# and releasing. At most POOL_SLOTS * POOL_MAX_BLOCK_BYTES (256 MB) stay
# reserved; :func:`release_pool` gives them back (tests, memory-tight code).
# ---------------------------------------------------------------------------

cdef extern from *:
    """
    #include "pythread.h"
    #define MINIGRAD_POOL_SLOTS 4
    #define MINIGRAD_POOL_MIN_BYTES ((size_t)1 << 20)
    #define MINIGRAD_POOL_MAX_BLOCK_BYTES ((size_t)1 << 26)

    static struct { void* ptr; size_t size; } minigrad_pool[MINIGRAD_POOL_SLOTS];
    static int minigrad_pool_oldest = 0;                /* next slot to give up when all are taken */
    static PyThread_type_lock minigrad_pool_lock = NULL;
    static PyDataMem_Handler* minigrad_pool_base = NULL; /* NumPy's default handler */

    static void* minigrad_pool_malloc(void* ctx, size_t size) {
        void* p = NULL;
        int k;
        PyThread_acquire_lock(minigrad_pool_lock, WAIT_LOCK);
        for (k = 0; k < MINIGRAD_POOL_SLOTS; k++) {
            if (minigrad_pool[k].ptr != NULL && minigrad_pool[k].size == size) {
                p = minigrad_pool[k].ptr;
                minigrad_pool[k].ptr = NULL;
                break;
            }
        }
        PyThread_release_lock(minigrad_pool_lock);
        if (p != NULL)
            return p;
        return minigrad_pool_base->allocator.malloc(minigrad_pool_base->allocator.ctx, size);
    }

    static void* minigrad_pool_calloc(void* ctx, size_t nelem, size_t elsize) {
        return minigrad_pool_base->allocator.calloc(minigrad_pool_base->allocator.ctx, nelem, elsize);
    }

    static void* minigrad_pool_realloc(void* ctx, void* ptr, size_t new_size) {
        return minigrad_pool_base->allocator.realloc(minigrad_pool_base->allocator.ctx, ptr, new_size);
    }

    /* NumPy passes the array's byte size, the size it was allocated with (a resize
     * goes through realloc and changes both). */
    static void minigrad_pool_free(void* ctx, void* ptr, size_t size) {
        void* evicted = NULL;
        size_t evicted_size = 0;
        int k, slot = -1;
        if (ptr != NULL && size >= MINIGRAD_POOL_MIN_BYTES && size <= MINIGRAD_POOL_MAX_BLOCK_BYTES) {
            PyThread_acquire_lock(minigrad_pool_lock, WAIT_LOCK);
            for (k = 0; k < MINIGRAD_POOL_SLOTS && slot < 0; k++)
                if (minigrad_pool[k].ptr == NULL)
                    slot = k;
            if (slot < 0) {
                slot = minigrad_pool_oldest;
                evicted = minigrad_pool[slot].ptr;
                evicted_size = minigrad_pool[slot].size;
            }
            minigrad_pool_oldest = (slot + 1) % MINIGRAD_POOL_SLOTS;
            minigrad_pool[slot].ptr = ptr;
            minigrad_pool[slot].size = size;
            PyThread_release_lock(minigrad_pool_lock);
            ptr = evicted;
            size = evicted_size;
        }
        if (ptr != NULL)
            minigrad_pool_base->allocator.free(minigrad_pool_base->allocator.ctx, ptr, size);
    }

    static PyDataMem_Handler minigrad_pool_handler = {
        "minigrad_output_pool", 1,
        {NULL, minigrad_pool_malloc, minigrad_pool_calloc, minigrad_pool_realloc, minigrad_pool_free}
    };

    /* The handler as a capsule for PyDataMem_SetHandler; NULL with an exception set on failure. */
    static PyObject* minigrad_pool_capsule(void) {
        if (minigrad_pool_lock == NULL) {
            minigrad_pool_base = (PyDataMem_Handler*)PyCapsule_GetPointer(PyDataMem_DefaultHandler, "mem_handler");
            if (minigrad_pool_base == NULL)
                return NULL;
            minigrad_pool_lock = PyThread_allocate_lock();
            if (minigrad_pool_lock == NULL)
                return PyErr_NoMemory();
        }
        return PyCapsule_New(&minigrad_pool_handler, "mem_handler", NULL);
    }

    /* Give every pooled block back; returns how many bytes that was. */
    static size_t minigrad_pool_release(void) {
        size_t total = 0;
        int k;
        void* p;
        size_t size;
        for (k = 0; k < MINIGRAD_POOL_SLOTS; k++) {
            PyThread_acquire_lock(minigrad_pool_lock, WAIT_LOCK);
            p = minigrad_pool[k].ptr;
            size = minigrad_pool[k].size;
            minigrad_pool[k].ptr = NULL;
            PyThread_release_lock(minigrad_pool_lock);
            if (p != NULL) {
                minigrad_pool_base->allocator.free(minigrad_pool_base->allocator.ctx, p, size);
                total += size;
            }
        }
        return total;
    }
    """
    const size_t POOL_MIN_BYTES "MINIGRAD_POOL_MIN_BYTES"
    const size_t POOL_MAX_BLOCK_BYTES "MINIGRAD_POOL_MAX_BLOCK_BYTES"
    object _pool_capsule "minigrad_pool_capsule"()
    size_t _pool_release "minigrad_pool_release"() noexcept nogil

cdef extern from "numpy/arrayobject.h":
    object PyDataMem_SetHandler(object handler)

cdef object _POOL_HANDLER = _pool_capsule()
cdef object _np_empty = np.empty


def empty_rows(Py_ssize_t n, Py_ssize_t d, dtype):
    """``np.empty((n, d), dtype)`` for a gather result; large ones take their memory from the pool."""
    cdef size_t nbytes = <size_t>n * <size_t>d * <size_t>(<cnp.dtype>dtype).itemsize
    if nbytes < POOL_MIN_BYTES or nbytes > POOL_MAX_BLOCK_BYTES:
        return _np_empty((n, d), dtype)
    previous = PyDataMem_SetHandler(_POOL_HANDLER)
    try:
        return _np_empty((n, d), dtype)
    finally:
        PyDataMem_SetHandler(previous)


def release_pool():
    """Give the pooled memory of freed gather results back to the system; returns its size in bytes."""
    return _pool_release()

ctypedef fused value_t:
    float
    double

ctypedef fused index_t:
    int32_t
    int64_t

# ---------------------------------------------------------------------------
# Dtype dispatch: the one place that maps arrays to a compiled version.
#
# The fused kernels below are fused ``def`` functions: written once, compiled by
# Cython once per (value, index) type pair. Calling the fused function itself would
# make Cython inspect the buffers' formats (about 2 us, as long as a small
# lookup takes in all), so each entry point keeps a tuple of its compiled
# versions and ``_version`` picks one from the arrays' type numbers. (Gather and
# index-add go further and take raw pointers, see "Row helpers".)
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

    #: Index-add uses private per-thread buffers when N >= this times V: the
    #: extra cost of zeroing and summing T-1 buffers of V rows is then small.
    PRIVATE_MIN_RATIO = 4
    #: ... and only while the buffers together stay below this many bytes.
    PRIVATE_MAX_BYTES = 1 << 28
    #: Gather on several threads hands out chunks of about this many elements
    #: (256 KiB of float32): small enough that a thread descheduled by another
    #: process holds up little, large enough that fetching the next is rare.
    GATHER_CHUNK_ELEMS = 1 << 16
    #: Index-add prefetches the rows it will add into, and gather the rows it will
    #: read, once the table is at least this many bytes (beyond a core's L2):
    #: index-add 1.3-1.9x faster on 6-512 MB tables, nothing to gain on small ones.
    PREFETCH_MIN_TABLE_BYTES = 1 << 21
    #: ... this many indices ahead,
    PREFETCH_ROWS_AHEAD = 8
    #: ... and at most this many bytes of each row (the hardware streams the rest).
    PREFETCH_MAX_BYTES = 256
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

#: Index-add chooses per-thread buffers from this many indices per table row (the door
#: asks for threads earlier for such calls: ``minigrad.kernels.PRIVATE_MIN_WORK``).
PRIVATE_INDICES_PER_ROW = PRIVATE_MIN_RATIO

#: Strategy names for the door, tests and benchmarks.
STRATEGIES = {"auto": STRATEGY_AUTO, "serial": STRATEGY_SERIAL, "columns": STRATEGY_COLUMNS,
              "rows": STRATEGY_ROWS, "private": STRATEGY_PRIVATE}


# ---------------------------------------------------------------------------
# Row helpers. A "row" is D values; the source may have any strides (read-only
# operands are never copied just to make them contiguous), the destination is
# always contiguous. Gather and index-add work on raw pointers and byte strides
# taken straight from the ndarrays: acquiring three typed memoryviews cost
# ~1.4 us per call, more than a 100-row lookup takes (0.07 us without them).
# ---------------------------------------------------------------------------

cdef inline const value_t* _row(const value_t* base, Py_ssize_t row_stride, Py_ssize_t r) noexcept nogil:
    """Address of row ``r``; strides are in bytes and may be negative."""
    return <const value_t*>(<const char*>base + r * row_stride)


cdef inline Py_ssize_t _index(const index_t* idx, Py_ssize_t stride, Py_ssize_t i) noexcept nogil:
    """``idx[i]`` of a 1-D index array with a byte stride."""
    return (<const index_t*>(<const char*>idx + i * stride))[0]


cdef inline void _copy_row(value_t* dst, const value_t* src, Py_ssize_t col_stride,
                           Py_ssize_t d) noexcept nogil:
    cdef Py_ssize_t j
    if col_stride == sizeof(value_t) and d * sizeof(value_t) < 128:
        # Narrow rows (a convolution's strips: 5 floats for a 5-wide kernel on one channel,
        # 30 on six): a call to memcpy per row cost more than the copy. im2col of LeNet's
        # first layer (184,320 rows of 5 floats) went from 1.39 to 0.57 ms (np.take: 0.65),
        # its second (20,480 rows of 30) from 0.26 to 0.18 ms (np.take: 0.21).
        for j in range(d):
            dst[j] = src[j]
    elif col_stride == sizeof(value_t):
        # The C library's memcpy picks the widest vector moves the CPU has at run
        # time (this file is compiled for the baseline instruction set); it is what
        # np.take uses per row too.
        memcpy(dst, src, d * sizeof(value_t))
    else:
        for j in range(d):
            dst[j] = (<const value_t*>(<const char*>src + j * col_stride))[0]


cdef inline void _add_row(value_t* dst, const value_t* src, Py_ssize_t col_stride,
                          Py_ssize_t j0, Py_ssize_t j1) noexcept nogil:
    """dst[j] += src[j] for j in [j0, j1). ``dst`` and ``src`` never overlap (the door's check)."""
    cdef Py_ssize_t j
    if col_stride == sizeof(value_t):
        if value_t is float:
            _add_row_f32(dst + j0, src + j0, j1 - j0)
        else:
            _add_row_f64(dst + j0, src + j0, j1 - j0)
    else:
        for j in range(j0, j1):
            dst[j] += (<const value_t*>(<const char*>src + j * col_stride))[0]


cdef inline void _prefetch_row(const void* row, Py_ssize_t nbytes) noexcept nogil:
    """Ask for the first cache lines of a row that will be written soon."""
    cdef Py_ssize_t k
    for k in range(0, min(nbytes, PREFETCH_MAX_BYTES), 64):
        _prefetch_for_write(<const char*>row + k)


cdef inline void _prefetch_row_read(const void* row, Py_ssize_t nbytes) noexcept nogil:
    """Ask for the first cache lines of a row that will be read soon."""
    cdef Py_ssize_t k
    for k in range(0, min(nbytes, PREFETCH_MAX_BYTES), 64):
        _prefetch_for_read(<const char*>row + k)


# ---------------------------------------------------------------------------
# Bounds check: one branch-free pass, then a second only on failure.
# ---------------------------------------------------------------------------

cdef Py_ssize_t _first_bad_index(const index_t* idx, Py_ssize_t stride, Py_ssize_t n,
                                 Py_ssize_t n_rows) noexcept nogil:
    """Position of the first of ``n`` indices outside [0, n_rows), or -1.

    Casting to unsigned maps every negative index to a huge value, so a single
    comparison catches both ends; int32 is widened to int64 first, so nothing
    wraps around.
    """
    cdef Py_ssize_t i
    cdef uint64_t limit = <uint64_t>n_rows
    cdef int bad = 0
    for i in range(n):
        bad |= <uint64_t><int64_t>_index(idx, stride, i) >= limit
    if not bad:
        return -1
    for i in range(n):
        if <uint64_t><int64_t>_index(idx, stride, i) >= limit:
            return i
    return -1


cdef Py_ssize_t _first_out_of_range(const index_t[:] idx, Py_ssize_t n_rows) noexcept nogil:
    """:func:`_first_bad_index` of a memoryview (the fused kernels below)."""
    if idx.shape[0] == 0:
        return -1
    return _first_bad_index(&idx[0], idx.strides[0], idx.shape[0], n_rows)


# ---------------------------------------------------------------------------
# Gather
# ---------------------------------------------------------------------------

cdef void _gather_rows(const value_t* weight, Py_ssize_t row_stride, Py_ssize_t col_stride,
                       const index_t* idx, Py_ssize_t idx_stride, value_t* out, Py_ssize_t d,
                       Py_ssize_t i0, Py_ssize_t i1) noexcept nogil:
    """out[i, :] = weight[idx[i], :] for i in [i0, i1)."""
    cdef Py_ssize_t i, nbytes = d * sizeof(value_t)
    # Rows of 32-256 contiguous bytes (8-64 float32): a memcpy of a constant size
    # compiles to a few vector moves in the loop, where a call per row dominated
    # (1.5-2.5x faster on 16-float rows than calling memcpy, as np.take does).
    if col_stride == sizeof(value_t) and nbytes == 64:
        for i in range(i0, i1):
            memcpy(out + i * d, _row(weight, row_stride, _index(idx, idx_stride, i)), 64)
    elif col_stride == sizeof(value_t) and nbytes == 128:
        for i in range(i0, i1):
            memcpy(out + i * d, _row(weight, row_stride, _index(idx, idx_stride, i)), 128)
    elif col_stride == sizeof(value_t) and nbytes == 32:
        for i in range(i0, i1):
            memcpy(out + i * d, _row(weight, row_stride, _index(idx, idx_stride, i)), 32)
    elif col_stride == sizeof(value_t) and nbytes == 256:
        for i in range(i0, i1):
            memcpy(out + i * d, _row(weight, row_stride, _index(idx, idx_stride, i)), 256)
    else:
        for i in range(i0, i1):
            _copy_row(out + i * d, _row(weight, row_stride, _index(idx, idx_stride, i)), col_stride, d)


cdef void _gather(const value_t* weight, Py_ssize_t row_stride, Py_ssize_t col_stride,
                  const index_t* idx, Py_ssize_t idx_stride, Py_ssize_t n,
                  value_t* out, Py_ssize_t d, int num_threads) noexcept nogil:
    """out[i, :] = weight[idx[i], :] for i < n; out is C-contiguous (n, d)."""
    cdef Py_ssize_t c, chunk, n_chunks
    if num_threads <= 1 or n * d < PARALLEL_MIN_WORK:
        # A separate serial loop: even a disabled (`if(0)`) OpenMP region costs ~1 us.
        _gather_rows(weight, row_stride, col_stride, idx, idx_stride, out, d, 0, n)
    else:
        # Each output row is written by exactly one iteration: no races. Small chunks,
        # handed out on demand: a thread that another process pushes off its core holds
        # up at most one chunk (~0.1 ms of copying) instead of a fixed share of the rows.
        chunk = max(1, GATHER_CHUNK_ELEMS // d)
        n_chunks = (n + chunk - 1) // chunk
        for c in prange(n_chunks, schedule="dynamic", num_threads=num_threads):
            _gather_rows(weight, row_stride, col_stride, idx, idx_stride, out, d,
                         c * chunk, min(n, (c + 1) * chunk))


cdef void _gather_rows_ahead(const value_t* weight, Py_ssize_t row_stride, Py_ssize_t col_stride,
                             const index_t* idx, Py_ssize_t idx_stride, Py_ssize_t n,
                             value_t* out, Py_ssize_t d) noexcept nogil:
    """The serial gather of all n rows, asking for the next block's rows while copying a block.

    Rows named by random indices in a table beyond the core's cache are cache misses
    the copy would wait for one by one. 1.03-1.15x on 50000-row tables (standalone
    loops); nothing to gain once the table fits in the cache. Strided rows: their
    first element only.
    """
    cdef Py_ssize_t b = 0, b1, i
    cdef Py_ssize_t nbytes = d * sizeof(value_t) if col_stride == sizeof(value_t) else sizeof(value_t)
    while b < n:
        b1 = min(b + PREFETCH_ROWS_AHEAD, n)
        for i in range(b1, min(b1 + PREFETCH_ROWS_AHEAD, n)):
            _prefetch_row_read(_row(weight, row_stride, _index(idx, idx_stride, i)), nbytes)
        _gather_rows(weight, row_stride, col_stride, idx, idx_stride, out, d, b, b1)
        b = b1


cdef Py_ssize_t _gather_checked(const value_t* weight, Py_ssize_t n_rows, Py_ssize_t row_stride,
                                Py_ssize_t col_stride, const index_t* idx, Py_ssize_t idx_stride,
                                Py_ssize_t n, value_t* out, Py_ssize_t d, int num_threads) noexcept nogil:
    cdef Py_ssize_t bad = _first_bad_index(idx, idx_stride, n, n_rows)
    if bad < 0 and n > 0 and d > 0:
        if (num_threads <= 1 or n * d < PARALLEL_MIN_WORK) and \
                n_rows * (row_stride if row_stride >= 0 else -row_stride) >= PREFETCH_MIN_TABLE_BYTES:
            _gather_rows_ahead(weight, row_stride, col_stride, idx, idx_stride, n, out, d)
        else:
            _gather(weight, row_stride, col_stride, idx, idx_stride, n, out, d, num_threads)
    return bad


cdef int _check_kernel_args(cnp.ndarray values, cnp.ndarray idx, cnp.ndarray out,
                            cnp.ndarray other) except -1:
    """The arrays as the door promises them; anything else is an error, never a stray access.

    ``values`` and ``out`` 2-D of one float dtype with equal widths, ``out``
    C-contiguous and writable; ``idx`` 1-D int32/int64; ``other`` (the operand
    with one row per index: ``out`` for gather, ``src`` for index-add) has
    ``len(idx)`` rows.
    """
    cdef int vt = cnp.PyArray_TYPE(values)
    if cnp.PyArray_NDIM(values) != 2 or cnp.PyArray_NDIM(out) != 2 or cnp.PyArray_NDIM(idx) != 1:
        raise ValueError("kernel arguments: values and out must be 2-D, idx 1-D")
    if (vt != cnp.NPY_FLOAT32 and vt != cnp.NPY_FLOAT64) or cnp.PyArray_TYPE(out) != vt:
        raise TypeError("kernel arguments: values and out must both be float32 or float64")
    if cnp.PyArray_TYPE(idx) != cnp.NPY_INT32 and cnp.PyArray_TYPE(idx) != cnp.NPY_INT64:
        raise TypeError("kernel arguments: idx must be int32 or int64")
    if not cnp.PyArray_IS_C_CONTIGUOUS(out) or not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("kernel arguments: out must be C-contiguous and writable")
    if cnp.PyArray_DIM(values, 1) != cnp.PyArray_DIM(out, 1) \
            or cnp.PyArray_DIM(other, 0) != cnp.PyArray_DIM(idx, 0):
        raise ValueError("kernel arguments: inconsistent shapes")
    return 0


cdef Py_ssize_t _gather_typed(int types, const void* w, Py_ssize_t n_rows, Py_ssize_t rs, Py_ssize_t cs,
                              const void* ip, Py_ssize_t ist, Py_ssize_t n, void* o, Py_ssize_t d,
                              int num_threads) noexcept nogil:
    """The compiled version of :func:`_gather_checked` for the value (2: float64) and index (1: int64) types."""
    if types == 3:
        return _gather_checked(<const double*>w, n_rows, rs, cs, <const int64_t*>ip, ist, n, <double*>o, d, num_threads)
    if types == 2:
        return _gather_checked(<const double*>w, n_rows, rs, cs, <const int32_t*>ip, ist, n, <double*>o, d, num_threads)
    if types == 1:
        return _gather_checked(<const float*>w, n_rows, rs, cs, <const int64_t*>ip, ist, n, <float*>o, d, num_threads)
    return _gather_checked(<const float*>w, n_rows, rs, cs, <const int32_t*>ip, ist, n, <float*>o, d, num_threads)


def gather(cnp.ndarray weight not None, cnp.ndarray idx not None, cnp.ndarray out not None,
           int num_threads=1):
    """out[i, :] = weight[idx[i], :]; returns -1, or the position of a bad index.

    The door guarantees: weight 2-D float32/float64, idx 1-D int32/int64,
    out C-contiguous (len(idx), D) of weight's dtype, not overlapping weight or
    idx. Nothing is written when an index is out of range.
    """
    _check_kernel_args(weight, idx, out, out)
    cdef Py_ssize_t n = cnp.PyArray_DIM(idx, 0), d = cnp.PyArray_DIM(out, 1)
    cdef Py_ssize_t n_rows = cnp.PyArray_DIM(weight, 0), rs = cnp.PyArray_STRIDE(weight, 0)
    cdef Py_ssize_t cs = cnp.PyArray_STRIDE(weight, 1), ist = cnp.PyArray_STRIDE(idx, 0)
    cdef void* w = cnp.PyArray_DATA(weight)
    cdef void* ip = cnp.PyArray_DATA(idx)
    cdef void* o = cnp.PyArray_DATA(out)
    cdef int types = (cnp.PyArray_TYPE(weight) == cnp.NPY_FLOAT64) * 2 + (cnp.PyArray_TYPE(idx) == cnp.NPY_INT64)
    cdef Py_ssize_t bad
    # Releasing the GIL costs about 0.1 us: only worth it when there is real work.
    if n * d < PARALLEL_MIN_WORK:
        return _gather_typed(types, w, n_rows, rs, cs, ip, ist, n, o, d, num_threads)
    with nogil:
        bad = _gather_typed(types, w, n_rows, rs, cs, ip, ist, n, o, d, num_threads)
    return bad


# ---------------------------------------------------------------------------
# Index-add
# ---------------------------------------------------------------------------

cdef void _index_add_serial(value_t* out, Py_ssize_t d, const index_t* idx, Py_ssize_t idx_stride,
                            const value_t* src, Py_ssize_t row_stride, Py_ssize_t col_stride,
                            Py_ssize_t i0, Py_ssize_t i1, Py_ssize_t j0, Py_ssize_t j1,
                            bint prefetch) noexcept nogil:
    """out[idx[i], j] += src[i, j] for i in [i0, i1), j in [j0, j1), in index order."""
    cdef Py_ssize_t i
    for i in range(i0, i1):
        if prefetch and i + PREFETCH_ROWS_AHEAD < i1:
            # The rows named by the indices are scattered over `out`: with `out` beyond
            # the caches each one is a cache miss the loop would wait for.
            _prefetch_row(out + _index(idx, idx_stride, i + PREFETCH_ROWS_AHEAD) * d + j0,
                          (j1 - j0) * sizeof(value_t))
        _add_row(out + _index(idx, idx_stride, i) * d, _row(src, row_stride, i), col_stride, j0, j1)


cdef void _index_add_owned_rows(value_t* out, Py_ssize_t d, const index_t* idx, Py_ssize_t idx_stride,
                                Py_ssize_t n, const value_t* src, Py_ssize_t row_stride,
                                Py_ssize_t col_stride, int owner, int n_owners) noexcept nogil:
    """Like the serial loop, but only for the rows whose block belongs to ``owner``."""
    cdef Py_ssize_t i, r
    for i in range(n):
        r = _index(idx, idx_stride, i)
        if (r // OWNER_BLOCK_ROWS) % n_owners == owner:
            _add_row(out + r * d, _row(src, row_stride, i), col_stride, 0, d)


cdef int _index_add_private(value_t* out, Py_ssize_t n_rows, Py_ssize_t d, const index_t* idx,
                            Py_ssize_t idx_stride, Py_ssize_t n, const value_t* src,
                            Py_ssize_t row_stride, Py_ssize_t col_stride, int num_threads) noexcept nogil:
    """Per-thread (V, D) buffers; thread 0 adds straight into ``out``. 0 if out of memory."""
    cdef Py_ssize_t size = n_rows * d, i, r, t, j, i0, i1
    cdef int T = num_threads
    cdef int k
    cdef value_t* target
    cdef value_t* acc
    cdef value_t* row
    # calloc hands back zeroed pages lazily, so untouched rows cost little.
    cdef value_t* buffers = <value_t*>calloc((T - 1) * size, sizeof(value_t))
    if buffers == NULL:
        return 0
    for t in prange(T, schedule="static", chunksize=1, num_threads=T):
        i0 = n * t // T
        i1 = n * (t + 1) // T
        target = out if t == 0 else buffers + (t - 1) * size
        for i in range(i0, i1):
            acc = target + _index(idx, idx_stride, i) * d
            _add_row(acc, _row(src, row_stride, i), col_stride, 0, d)
    # Reduce: out[r] += buffer_1[r] + ... ; rows are independent.
    for r in prange(n_rows, schedule="static", num_threads=T):
        row = out + r * d
        for k in range(T - 1):
            acc = buffers + k * size + r * d
            for j in range(d):
                row[j] += acc[j]
    free(buffers)
    return 1


cdef int _choose_strategy(Py_ssize_t n, Py_ssize_t n_rows, Py_ssize_t d, Py_ssize_t itemsize,
                          int num_threads) noexcept nogil:
    # Splitting columns or owning rows makes every thread walk all N indices and touch
    # every row named: on 2 cores that was slower than one thread even on an idle
    # machine (1M x 128 float32, N = 1M: 0.38 of copy bandwidth against 0.47 serial),
    # so only private buffers, whose threads share the indices out, are chosen; the
    # other two stay for machines where `bench_kernels.py --strategies` shows they pay.
    if num_threads <= 1 or not MINIGRAD_HAVE_OPENMP or n * d < PARALLEL_MIN_WORK:
        return STRATEGY_SERIAL
    if n >= PRIVATE_MIN_RATIO * n_rows and (num_threads - 1) * n_rows * d * itemsize <= PRIVATE_MAX_BYTES:
        return STRATEGY_PRIVATE
    return STRATEGY_SERIAL


cdef void _index_add_dispatch(value_t* out, Py_ssize_t n_rows, Py_ssize_t d, const index_t* idx,
                              Py_ssize_t idx_stride, Py_ssize_t n, const value_t* src,
                              Py_ssize_t row_stride, Py_ssize_t col_stride, int num_threads,
                              int strategy) noexcept nogil:
    cdef Py_ssize_t t, j0, j1, n_blocks
    cdef Py_ssize_t block = 64 // sizeof(value_t)     # one cache line of values
    cdef int T = num_threads if num_threads > 1 else 1
    if strategy == STRATEGY_AUTO:
        strategy = _choose_strategy(n, n_rows, d, sizeof(value_t), T)
    if strategy == STRATEGY_PRIVATE and T > 1:
        if _index_add_private(out, n_rows, d, idx, idx_stride, n, src, row_stride, col_stride, T):
            return
        strategy = STRATEGY_ROWS                     # out of memory: fall back
    if strategy == STRATEGY_COLUMNS and T > 1:
        # Thread t owns whole cache-line blocks of columns [j0, j1) of every row.
        n_blocks = (d + block - 1) // block
        for t in prange(T, schedule="static", chunksize=1, num_threads=T):
            j0 = min(d, (n_blocks * t // T) * block)
            j1 = min(d, (n_blocks * (t + 1) // T) * block)
            _index_add_serial(out, d, idx, idx_stride, src, row_stride, col_stride, 0, n, j0, j1, False)
    elif strategy == STRATEGY_ROWS and T > 1:
        for t in prange(T, schedule="static", chunksize=1, num_threads=T):
            _index_add_owned_rows(out, d, idx, idx_stride, n, src, row_stride, col_stride, t, T)
    else:
        _index_add_serial(out, d, idx, idx_stride, src, row_stride, col_stride, 0, n, 0, d,
                          n_rows * d * <Py_ssize_t>sizeof(value_t) >= PREFETCH_MIN_TABLE_BYTES)


cdef Py_ssize_t _index_add_checked(value_t* out, Py_ssize_t n_rows, Py_ssize_t d, const index_t* idx,
                                   Py_ssize_t idx_stride, Py_ssize_t n, const value_t* src,
                                   Py_ssize_t row_stride, Py_ssize_t col_stride, int num_threads,
                                   int strategy) noexcept nogil:
    cdef Py_ssize_t bad = _first_bad_index(idx, idx_stride, n, n_rows)
    if bad < 0 and n > 0 and d > 0:
        _index_add_dispatch(out, n_rows, d, idx, idx_stride, n, src, row_stride, col_stride,
                            num_threads, strategy)
    return bad


cdef Py_ssize_t _index_add_typed(int types, void* o, Py_ssize_t n_rows, Py_ssize_t d, const void* ip,
                                 Py_ssize_t ist, Py_ssize_t n, const void* s, Py_ssize_t rs, Py_ssize_t cs,
                                 int num_threads, int strategy) noexcept nogil:
    """The compiled version of :func:`_index_add_checked` for the value (2: float64) and index (1: int64) types."""
    if types == 3:
        return _index_add_checked(<double*>o, n_rows, d, <const int64_t*>ip, ist, n, <const double*>s, rs, cs,
                                  num_threads, strategy)
    if types == 2:
        return _index_add_checked(<double*>o, n_rows, d, <const int32_t*>ip, ist, n, <const double*>s, rs, cs,
                                  num_threads, strategy)
    if types == 1:
        return _index_add_checked(<float*>o, n_rows, d, <const int64_t*>ip, ist, n, <const float*>s, rs, cs,
                                  num_threads, strategy)
    return _index_add_checked(<float*>o, n_rows, d, <const int32_t*>ip, ist, n, <const float*>s, rs, cs,
                              num_threads, strategy)


def index_add(cnp.ndarray out not None, cnp.ndarray idx not None, cnp.ndarray src not None,
              int num_threads=1, int strategy=-1):
    """out[idx[i], :] += src[i, :] in place; returns -1, or the position of a bad index.

    The door guarantees: out C-contiguous 2-D float32/float64 and writable,
    idx 1-D int32/int64, src (len(idx), D) of out's dtype (any strides), neither
    overlapping out. Nothing is written when an index is out of range.
    ``strategy`` forces one of the STRATEGY_* codes (for tests and benchmarks).
    """
    _check_kernel_args(src, idx, out, src)
    if strategy < STRATEGY_AUTO or strategy > STRATEGY_PRIVATE:
        raise ValueError(f"index_add: unknown strategy {strategy}")
    cdef Py_ssize_t n = cnp.PyArray_DIM(idx, 0), d = cnp.PyArray_DIM(out, 1)
    cdef Py_ssize_t n_rows = cnp.PyArray_DIM(out, 0), rs = cnp.PyArray_STRIDE(src, 0)
    cdef Py_ssize_t cs = cnp.PyArray_STRIDE(src, 1), ist = cnp.PyArray_STRIDE(idx, 0)
    cdef void* o = cnp.PyArray_DATA(out)
    cdef void* ip = cnp.PyArray_DATA(idx)
    cdef void* s = cnp.PyArray_DATA(src)
    cdef int types = (cnp.PyArray_TYPE(out) == cnp.NPY_FLOAT64) * 2 + (cnp.PyArray_TYPE(idx) == cnp.NPY_INT64)
    cdef Py_ssize_t bad
    if n * d < PARALLEL_MIN_WORK and strategy == STRATEGY_AUTO:
        return _index_add_typed(types, o, n_rows, d, ip, ist, n, s, rs, cs, num_threads, strategy)
    with nogil:
        bad = _index_add_typed(types, o, n_rows, d, ip, ist, n, s, rs, cs, num_threads, strategy)
    return bad


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


# ---------------------------------------------------------------------------
# Fused loops of GELU (tanh form) and LayerNorm: one pass where NumPy makes
# several over arrays too large for the cache. The math is stated where the ops
# are (minigrad.ops.activations.GELU, minigrad.ops.layers.LayerNorm).
# ---------------------------------------------------------------------------

cdef double _SQRT_2_OVER_PI = 0.7978845608028654


def _gelu_tanh_arg(const value_t[::1] x, value_t[::1] u):
    cdef value_t a = <value_t>_SQRT_2_OVER_PI, b = <value_t>(_SQRT_2_OVER_PI * 0.044715), xi
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        xi = x[i]
        u[i] = xi * (a + b * xi * xi)               # √(2/π)(x + 0.044715x³)


def _gelu_tanh_value(const value_t[::1] x, const value_t[::1] t, value_t[::1] y):
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        y[i] = <value_t>0.5 * x[i] * (<value_t>1 + t[i])  # ½x(1 + t)


def _gelu_tanh_grad(const value_t[::1] x, const value_t[::1] t, const value_t[::1] g, value_t[::1] out):
    cdef value_t a = <value_t>_SQRT_2_OVER_PI, b = <value_t>(_SQRT_2_OVER_PI * 3 * 0.044715), xi, ti
    cdef value_t half = 0.5, one = 1
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        xi, ti = x[i], t[i]
        # ȳ·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²))
        out[i] = g[i] * (half * (one + ti) + half * xi * (one - ti * ti) * (a + b * xi * xi))


cdef tuple _GELU_ARG = _versions(_gelu_tanh_arg)
cdef tuple _GELU_VALUE = _versions(_gelu_tanh_value)
cdef tuple _GELU_GRAD = _versions(_gelu_tanh_grad)


def gelu_tanh_arg(cnp.ndarray x not None, cnp.ndarray u not None):
    """u = √(2/π)(x + 0.044715x³); flat C-contiguous arrays of one dtype (the door checks)."""
    _version(_GELU_ARG, x)(x, u)


def gelu_tanh_value(cnp.ndarray x not None, cnp.ndarray t not None, cnp.ndarray y not None):
    """y = ½x(1 + t); flat C-contiguous arrays of one dtype."""
    _version(_GELU_VALUE, x)(x, t, y)


def gelu_tanh_grad(cnp.ndarray x not None, cnp.ndarray t not None, cnp.ndarray g not None, cnp.ndarray out not None):
    """GELU(tanh)'s VJP from x and t = tanh(u); flat C-contiguous arrays of one dtype."""
    _version(_GELU_GRAD, x)(x, t, g, out)


def _layer_norm(const value_t[:, ::1] x, const value_t[::1] w, const value_t[::1] b, bint has_w, bint has_b,
                double eps, value_t[:, ::1] xhat, value_t[::1] rstd, value_t[:, ::1] y):
    cdef Py_ssize_t r, i, d = x.shape[1]
    cdef double s, mean, dev, rs
    cdef value_t h, rsv, meanv
    for r in range(x.shape[0]):
        s = 0
        for i in range(d):
            s += x[r, i]
        mean = s / d
        s = 0
        for i in range(d):                           # two passes over a row in cache: exact for
            dev = x[r, i] - mean                     # values far from 0, in double (no overflow
            s += dev * dev                           # of float32 squares)
        rs = 1.0 / sqrt(s / d + eps)
        rstd[r] = <value_t>rs
        rsv, meanv = <value_t>rs, <value_t>mean
        for i in range(d):
            h = (x[r, i] - meanv) * rsv
            xhat[r, i] = h
            if has_w:
                h = h * w[i]
            if has_b:
                h = h + b[i]
            y[r, i] = h


def _layer_norm_grad(const value_t[:, ::1] g, const value_t[:, ::1] xhat, const value_t[::1] rstd,
                     const value_t[::1] w, bint has_w, bint need_x, value_t[:, ::1] gx,
                     double[::1] gw, double[::1] gb):
    cdef Py_ssize_t r, i, d = g.shape[1]
    cdef double m1, m2, gh
    cdef value_t m1v, m2v, rs
    for r in range(g.shape[0]):
        m1 = 0
        m2 = 0
        for i in range(d):
            gh = g[r, i]
            gw[i] += gh * xhat[r, i]                 # γ̄ = Σ ȳ·x̂
            gb[i] += gh                              # β̄ = Σ ȳ
            if has_w:
                gh = gh * w[i]                       # ĝ = ȳ·γ
            m1 += gh
            m2 += gh * xhat[r, i]
        if not need_x:
            continue
        m1v, m2v, rs = <value_t>(m1 / d), <value_t>(m2 / d), rstd[r]
        for i in range(d):                           # x̄ = (ĝ − mean ĝ − x̂·mean(ĝ·x̂))/σ
            gx[r, i] = ((g[r, i] * w[i] if has_w else g[r, i]) - m1v - xhat[r, i] * m2v) * rs


cdef tuple _LAYER_NORM = _versions(_layer_norm)
cdef tuple _LAYER_NORM_GRAD = _versions(_layer_norm_grad)


def _shift_rows(const value_t[:, ::1] x, value_t[:, ::1] out):
    """out = x − max of its row; 0 at a row whose max is not finite (±inf, or NaN first)."""
    cdef Py_ssize_t r, i, d = x.shape[1]
    cdef value_t m
    if d == 0 or out.shape[0] != x.shape[0] or out.shape[1] != d:  # x[r, 0] below, out like x
        raise ValueError(f"shift_rows: x {tuple(x.shape)[:2]} needs a value per row and out of its shape")
    for r in range(x.shape[0]):
        m = x[r, 0]
        for i in range(1, d):
            m = x[r, i] if x[r, i] > m else m
        if not (m - m == 0):                         # ±inf − itself and NaN are NaN
            return 0
        for i in range(d):
            out[r, i] = x[r, i] - m
    return 1


def _subtract_log_row_sums(value_t[:, ::1] shifted, const value_t[:, ::1] e):
    """shifted −= log Σ e over each row (the sum in double); 0 at a row whose sum is not finite."""
    cdef Py_ssize_t r, i, d = e.shape[1]
    cdef double s
    cdef value_t ls
    if shifted.shape[0] != e.shape[0] or shifted.shape[1] != d:
        raise ValueError("subtract_log_row_sums: shifted and e must have one shape")
    for r in range(e.shape[0]):
        s = 0
        for i in range(d):
            s += e[r, i]
        if not (s >= 1.0 and s < 1e300):            # NaN fails both
            return 0
        ls = <value_t>log(s)
        for i in range(d):
            shifted[r, i] -= ls
    return 1


cdef tuple _SHIFT_ROWS = _versions(_shift_rows)
cdef tuple _SUBTRACT_LOG_ROW_SUMS = _versions(_subtract_log_row_sums)


def shift_rows(cnp.ndarray x not None, cnp.ndarray out not None):
    """out = x − row max for x (R, D), D >= 1; C-contiguous, one dtype. 1 if every max was finite."""
    return _version(_SHIFT_ROWS, x)(x, out)


def subtract_log_row_sums(cnp.ndarray shifted not None, cnp.ndarray e not None):
    """shifted −= log(row sums of e), both (R, D); C-contiguous, one dtype. 1 if every sum was finite."""
    return _version(_SUBTRACT_LOG_ROW_SUMS, e)(shifted, e)


def layer_norm(cnp.ndarray x not None, cnp.ndarray w not None, cnp.ndarray b not None, bint has_w, bint has_b,
               double eps, cnp.ndarray xhat not None, cnp.ndarray rstd not None, cnp.ndarray y not None):
    """LayerNorm of the rows of x (R, D) into xhat, rstd (R,), y; C-contiguous, one dtype (w, b: (D,) or empty)."""
    _version(_LAYER_NORM, x)(x, w, b, has_w, has_b, eps, xhat, rstd, y)


def layer_norm_grad(cnp.ndarray g not None, cnp.ndarray xhat not None, cnp.ndarray rstd not None,
                    cnp.ndarray w not None, bint has_w, bint need_x, cnp.ndarray gx not None,
                    cnp.ndarray gw not None, cnp.ndarray gb not None):
    """LayerNorm's VJP by rows; gw, gb: float64 (D,) zeros, accumulated. C-contiguous, one dtype."""
    _version(_LAYER_NORM_GRAD, g)(g, xhat, rstd, w, has_w, need_x, gx, gw, gb)
