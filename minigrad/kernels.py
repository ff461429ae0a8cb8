"""The door to minigrad's compiled kernels: gather, index-add, and the fused loops.

Public, for any NumPy arrays:

* :func:`gather`:        ``out[..., :] = W[idx[...], :]`` (Embedding forward, ``take`` along axis 0);
* :func:`index_add`:     ``out[idx[...], :] += src[..., :]``, every occurrence of a
  repeated index adding its own row (Embedding backward, the backward of integer
  indexing, sparse-gradient coalescing).

Private, for minigrad's own optimizers and EmbeddingBag (at the end of this file):
the fused loops :func:`adam_update_`, :func:`sgd_update_`, :func:`sparse_adam_rows_`,
:func:`bag_sum` and :func:`bag_sum_backward`, each one pass over memory where NumPy
would make several. Each returns None/False when it cannot take the arrays as
they are, and its caller then runs its own NumPy code.

This module checks every argument (dtypes, shapes, index range, writability,
operands that share memory) and raises a clear error, then hands plain,
well-formed arrays to one of two implementations:

* ``"cython"``: the compiled kernels in ``minigrad/_kernels.pyx`` (typed
  memoryviews, no GIL, OpenMP threads for large inputs);
* ``"numpy"``: a short NumPy reference (``np.take`` / ``np.add.at``), which is
  the oracle in the tests and the fallback when the extension was not built.

``MINIGRAD_KERNELS=numpy`` selects the reference; ``MINIGRAD_KERNELS=cython``
makes a missing extension an error instead of a warning. :data:`BACKEND` says
which one is in use, and :func:`use_backend` switches temporarily.

Overlapping operands: an array that a kernel reads (``weight``, ``src``,
``idx``) may not share memory with the one it writes (``out``); that is a
``RuntimeError`` with PyTorch's message, raised before anything is written.
When NumPy cannot tell cheaply whether two strided views share memory, the
read operand is copied first instead.

Threads calling in: :func:`index_add` and :func:`gather` with ``out=`` hold a
lock for the output's memory while they write, so several Python threads adding
into one array never lose an update.

Threads: the compiled kernels use at most :func:`get_num_threads` threads
(default: the CPUs this process may run on, or ``MINIGRAD_NUM_THREADS``), and
only for inputs large enough to repay them even on a busy machine. The policy,
and why:

* gather and index-add go parallel only from :data:`PARALLEL_MIN_WORK` (16M)
  elements moved. Both are memory-bound: on an idle 2-core machine a second
  thread pays on large inputs (a gather of 1M rows of 128 float32 reached 0.32
  of ``np.copyto``'s rate on one thread, 0.63 on two), while a parallel region whose second
  thread is descheduled by another process waits for it: on a shared machine
  with one core busy elsewhere, gather of 65k x 16 float32 rows on two threads
  took 52 ms against 0.6 ms for ``np.take`` and ~1 ms on one thread
  (``bench_kernels.py --load``).
  Above 16M elements a call takes >= 10 ms; even then the door asks only for
  the CPUs that no other thread of the system wants at that moment (the
  runnable count in ``/proc/loadavg``), and gather hands rows out in small
  chunks on demand, so a late thread holds up little. Index-add uses several
  threads only through per-thread buffers (many more indices than rows): its
  other parallel strategies lost to one thread on 2 cores;
* index-add with per-thread buffers goes parallel from :data:`PRIVATE_MIN_WORK`
  (2M) elements. Its threads do not share a memory stream: each reads its own
  half of the source rows and adds them into its own copy of the (small) table,
  so two threads gain where a single core's reading is the limit. 65536 indices
  into 1000 rows, idle 2-core machine: 0.83 against 1.71 ms on one thread for
  32 float64 columns, 1.63 against 4.77 ms for 128 float32 columns, about the
  same at 16 columns (1M elements). Such a call takes >= 0.5 ms, so the idle-CPU
  count is read for it too (10-50 us), and on a busy machine it runs on one thread;
* the fused kernels (optimizer updates, EmbeddingBag sum/mean) always run on
  one thread: a training step interleaves them with BLAS calls, and OpenMP
  threads and BLAS threads competing for the same few cores made steps 2-4x
  slower on a 2-core machine;
* NumPy's BLAS (OpenBLAS in NumPy's wheels) has its own thread pool, by default
  one thread per core. minigrad never changes it; to limit it, set
  ``OPENBLAS_NUM_THREADS`` (or ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``) before
  NumPy is imported, or use ``threadpoolctl.threadpool_limits(n)`` at run
  time. On small machines, or with several processes per machine, one BLAS
  thread plus ``set_num_threads(1)`` is often fastest for small models;
  ``benchmarks/bench_training.py`` measures both frameworks with equal settings.
* ``OMP_WAIT_POLICY=PASSIVE`` is set (unless already set) before the
  extension loads, so idle OpenMP workers sleep instead of spinning on a core.

Memory of gather results: on large outputs a gather's time goes mostly into
getting fresh memory, not into copying. The C library maps a block of tens of
megabytes fresh from the system at every call, and the system zeroes each page
as it is first written: a gather of 65536 rows of 128 floats (32-64 MB) into
fresh memory took 1.4-1.8x as long as into memory already in use (interleaved,
CPU time, a shared 2-core x86-64 machine). So the compiled backend allocates a
result of 1 MiB to 64 MiB from a small pool: when such an array is freed, its
memory is kept (at most 4 blocks, the most recently freed) and the next result
of exactly that size reuses it, as the next step of a training loop does. With
it, ``gather`` took 0.45-0.7 of ``np.take``'s time on those shapes (``np.take``
gets fresh memory every call). The arrays are ordinary NumPy arrays that own
their data; ``minigrad._kernels.release_pool()`` returns the kept blocks.

Accepted inputs, for both backends:

* values: float32 or float64, and every value array of a call has the same
  dtype (no silent upcast). Anything else is a ``TypeError``.
* indices: any integer dtype. int32 and int64 are used as they are; other
  integer dtypes (int8, uint16, uint64, ...) are converted to int64, which is
  cheap because index arrays are small next to the value arrays. bool and
  float indices are a ``TypeError``.
* every index must lie in ``[0, V)``; negative indices do *not* count from
  the end (as in ``torch.nn.functional.embedding``). Violations raise
  ``IndexError`` naming the value, its position and the valid range.
"""
import contextlib
import math
import os
import threading
import warnings

# OpenMP's worker threads may otherwise spin for a while after every parallel
# region, stealing a core from OpenBLAS (or the next kernel) on small machines.
# Must be set before the OpenMP runtime loads, i.e. before the extension.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

__all__ = [
    "BACKEND",
    "gather",
    "index_add",
    "available_backends",
    "set_backend",
    "use_backend",
    "get_num_threads",
    "set_num_threads",
]
# The fused kernels at the end of this module (adam_update_, sgd_update_,
# sparse_adam_rows_, bag_sum, bag_sum_backward, gelu_tanh, layer_norm, log_softmax_last, ...)
# serve minigrad's optimizers and layers; they are not part of the public API listed above.

_ndarray = np.ndarray
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_I32 = np.dtype(np.int32)
_I64 = np.dtype(np.int64)

# ---------------------------------------------------------------------------
# Loading the compiled kernels
# ---------------------------------------------------------------------------

_requested = os.environ.get("MINIGRAD_KERNELS", "").strip().lower()
if _requested not in ("", "cython", "numpy"):
    raise ValueError(f"MINIGRAD_KERNELS must be 'cython' or 'numpy', got {_requested!r}")

_ext = None
if _requested != "numpy":
    try:
        from minigrad import _kernels as _ext
    except ImportError as exc:
        if _requested == "cython":
            raise ImportError(
                "MINIGRAD_KERNELS=cython but the compiled kernels are missing; "
                "build them with `python setup.py build_ext --inplace`"
            ) from exc
        warnings.warn(
            f"minigrad's compiled kernels are not available ({exc}); using the slower NumPy "
            "reference. Build them with `python setup.py build_ext --inplace`.",
            RuntimeWarning,
            stacklevel=2,
        )

# ---------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------


def _cpus_available() -> int:
    """CPUs this process may use (affinity mask, e.g. under taskset or a container)."""
    total = os.cpu_count() or 1
    try:
        return max(1, min(total, len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):
        return total


_MAX_THREADS = _cpus_available()
#: CPUs of the whole system, which ``/proc/loadavg`` counts the busy threads of.
_SYSTEM_CPUS = os.cpu_count() or 1


def _threads_from_env() -> int:
    text = os.environ.get("MINIGRAD_NUM_THREADS", "").strip()
    if not text:
        return _MAX_THREADS
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        warnings.warn(
            f"MINIGRAD_NUM_THREADS must be a positive integer, got {text!r}; using {_MAX_THREADS}",
            RuntimeWarning,
            stacklevel=3,
        )
        return _MAX_THREADS
    return min(n, _MAX_THREADS)


_num_threads = _threads_from_env()

#: Least work (elements moved, N * D) for which gather/index-add use more than
#: one thread; see the policy above. Tests lower it to reach the parallel code.
PARALLEL_MIN_WORK = 1 << 24


#: Least work for index-add on several threads when it will use per-thread buffers
#: (see the policy above): at least :data:`PRIVATE_INDICES_PER_ROW` indices per row.
PRIVATE_MIN_WORK = 1 << 21

#: The compiled index-add's threshold for per-thread buffers, in indices per table row.
PRIVATE_INDICES_PER_ROW = _ext.PRIVATE_INDICES_PER_ROW if _ext is not None else 4


def _cpus_busy_elsewhere() -> int:
    """Threads of other work that want a CPU right now, from ``/proc/loadavg`` (0 where unknown).

    Its fourth field counts the runnable threads of the whole system at this
    instant (the caller's own thread included), unlike the load averages, which
    lag by a minute. Reading it costs 10-50 us: only calls of >= 10 ms ask.
    """
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return 0
    return max(0, running - 1)


def _threads_for(work: int, least: int | None = None) -> int:
    """Threads for a gather/index-add call moving ``work`` elements.

    One below ``least`` (:data:`PARALLEL_MIN_WORK` unless the call says otherwise);
    above it, at most as many as there are
    idle CPUs, because a parallel region ends only when its last thread does,
    and a thread that has to share its core with another busy process comes
    back a scheduler tick (4 ms) or more late: on 2 cores with one busy
    elsewhere, two threads made gather up to 10x slower than one.
    """
    if work < (PARALLEL_MIN_WORK if least is None else least) or _num_threads == 1:
        return 1
    idle = _SYSTEM_CPUS - _cpus_busy_elsewhere()
    return max(1, min(_num_threads, idle))


def set_num_threads(n: int) -> None:
    """Set how many threads the compiled kernels may use.

    Parameters
    ----------
    n : int
        At least 1. Values above the number of available CPUs are lowered to it:
        more threads than cores only makes them (and BLAS's threads) wait for
        each other.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.
    """
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of threads must be a positive integer, got {n!r}")
    _num_threads = min(int(n), _MAX_THREADS)


def get_num_threads() -> int:
    """Return the most threads a compiled kernel call will use.

    Small inputs always run on one thread; without OpenMP every call does.
    """
    return _num_threads


# ---------------------------------------------------------------------------
# Checks (only the fast path is inlined in the door functions; these build the
# error messages)
# ---------------------------------------------------------------------------


def _value_dtype_error(name, dtype):
    return TypeError(f"{name} must have dtype float32 or float64, got {dtype}")


def _value_dtype(dtype, name):
    """The canonical float32/float64 dtype equal to ``dtype``, else a TypeError."""
    for canonical in (_F32, _F64):
        if dtype == canonical:
            return canonical
    raise _value_dtype_error(name, dtype)


def _mixed_dtype_error(name, dtype, other_name, other_dtype):
    if dtype not in (_F32, _F64):
        return _value_dtype_error(name, dtype)
    return TypeError(
        f"{name} has dtype {dtype} but {other_name} has dtype {other_dtype}; "
        "they must match (no implicit conversion)"
    )


def _as_index_array(idx):
    """int32/int64 arrays pass through; other integer dtypes become int64; the rest is a TypeError."""
    dt = idx.dtype
    if dt.kind == "b":
        raise TypeError(
            "idx must be an integer array, got dtype bool (a boolean mask is not a list of "
            "row numbers; use np.flatnonzero(mask) to get one)"
        )
    if dt.kind not in "iu":
        raise TypeError(f"idx must be an integer array, got dtype {dt}")
    # Exact for every integer type except uint64 above 2**63 - 1, which becomes
    # negative: still out of range, and the error message reads the original.
    return idx.astype(_I64)


def _out_of_range_error(idx, position, n_rows, name):
    where = np.unravel_index(position, idx.shape) if idx.ndim else ()
    value = idx[where]
    where_text = str(int(where[0])) if len(where) == 1 else str(tuple(int(p) for p in where))
    return IndexError(
        f"index {value} is out of range for {name} with {n_rows} rows "
        f"(valid range [0, {n_rows})) at position {where_text} of idx"
    )


# ---------------------------------------------------------------------------
# The NumPy reference kernels. Same contract as the compiled ones: inputs are
# already checked except for the index range; return -1, or the flat position
# of the first bad index (then nothing is written).
# ---------------------------------------------------------------------------


def _numpy_first_out_of_range(idx, n_rows):
    if idx.size == 0:
        return -1
    if idx.min() >= 0 and idx.max() < n_rows:
        return -1
    return int(np.flatnonzero((idx < 0) | (idx >= n_rows))[0])


def _numpy_gather_kernel(weight, idx, out, num_threads):
    bad = _numpy_first_out_of_range(idx, weight.shape[0])
    if bad < 0:
        # mode="clip" skips take's own range check, which would buffer `out`.
        np.take(weight, idx, axis=0, out=out, mode="clip")
    return bad


def _numpy_index_add_kernel(out, idx, src, num_threads, strategy):
    bad = _numpy_first_out_of_range(idx, out.shape[0])
    if bad < 0:
        np.add.at(out, idx, src)   # unbuffered: every duplicate index adds its row
    return bad


# ---------------------------------------------------------------------------
# Operands that overlap, and threads that write into one array
# ---------------------------------------------------------------------------

#: Work limit for NumPy's exact overlap test (``np.shares_memory``); past it the
#: answer is "maybe", and the door then copies the operand that is read.
_OVERLAP_MAX_WORK = 10_000


def _read_operand(written, read, name):
    """``read`` itself, or a copy of it when it may share memory with ``written``.

    The compiled kernels read ``read`` while they write ``written``; memory in both
    would be read after it was overwritten (NumPy's ``np.take``/``np.add.at``
    buffer such operands, so the two backends would disagree). As in PyTorch, a
    read operand that certainly shares memory with the written one is a
    ``RuntimeError``; when NumPy cannot tell cheaply (interleaved strided views),
    the operand is copied first, which is right in either case.
    """
    if not np.may_share_memory(written, read):           # bounds only: O(1)
        return read
    try:
        overlap = np.shares_memory(written, read, max_work=_OVERLAP_MAX_WORK)
    except np.exceptions.TooHardError:
        return read.copy()
    if overlap:
        raise RuntimeError(
            f"unsupported operation: some elements of {name} and the written-to array refer to a "
            f"single memory location. Please copy {name} before performing the operation."
        )
    return read


#: Kernels that write into an array the caller passed (index_add, gather with
#: ``out=``) hold a lock for that array's memory, so calls from several threads
#: into one output add up instead of losing updates: the kernels release the
#: GIL, and two unsynchronised ``out[r] += ...`` on one row keep only one of
#: them. Locks are striped by the array that owns the memory (views of one
#: array share a lock); calls into different outputs run in parallel unless
#: their owners land on the same stripe.
_WRITE_LOCKS = tuple(threading.Lock() for _ in range(64))


def _write_lock(arr):
    owner = arr
    while isinstance(owner, _ndarray) and owner.base is not None:
        owner = owner.base
    return _WRITE_LOCKS[(id(owner) >> 4) % len(_WRITE_LOCKS)]


# ---------------------------------------------------------------------------
# The door: the same checks and errors for both backends; then the kernel of
# the backend in use (``_gather_kernel``/``_index_add_kernel``, set by
# :func:`set_backend`).
#
# The door functions are called once per Embedding forward/backward, often on
# tiny inputs, so the common case avoids every avoidable Python call: `type(x)
# is` tests, identity checks on dtypes, no np.asarray of arrays.
# ---------------------------------------------------------------------------


def gather(weight, idx, out=None):
    """Gather rows of ``weight``: the Embedding forward pass.

    ``out[..., :] = weight[idx[...], :]``, i.e. ``np.take(weight, idx, axis=0)``
    or ``torch.nn.functional.embedding(idx, weight)``.

    Parameters
    ----------
    weight : ndarray, shape (V, D), float32 or float64
        Any strides (transposed, sliced, negatively strided) and read-only are
        fine; it is never copied.
    idx : array_like of int, any shape (0-d and empty included)
        Row numbers in ``[0, V)``.
    out : ndarray, optional
        C-contiguous, writable, shape ``idx.shape + (D,)`` and ``weight``'s dtype,
        sharing no memory with ``weight`` or ``idx``. Filled and returned instead
        of a new array.

    Returns
    -------
    ndarray, shape ``idx.shape + (D,)``, weight's dtype

    Raises
    ------
    TypeError
        Value dtype not float32/float64, ``out`` of another dtype than ``weight``,
        or non-integer (bool, float) ``idx``.
    ValueError
        ``weight`` not 2-D, ``out`` of the wrong shape, not C-contiguous or read-only.
    IndexError
        An index outside ``[0, V)``; the message names it, its position and the range.
    RuntimeError
        ``out`` shares memory with ``weight`` or ``idx`` (as
        ``torch.index_select(..., out=)`` does); nothing is written.

    Examples
    --------
    >>> w = np.arange(6.0).reshape(3, 2)
    >>> gather(w, np.array([2, 0, 2]))
    array([[4., 5.],
           [0., 1.],
           [4., 5.]])
    """
    if type(weight) is not _ndarray:
        weight = np.asarray(weight)
    if type(idx) is not _ndarray:
        idx = np.asarray(idx)
    dtype = weight.dtype
    if dtype is not _F32 and dtype is not _F64:
        dtype = _value_dtype(dtype, "weight")
    if weight.ndim != 2:
        raise ValueError(f"weight must be 2-D (num_rows, dim), got shape {weight.shape}")
    flat = idx
    if flat.dtype is not _I64 and flat.dtype is not _I32:
        flat = _as_index_array(idx)
    if flat.ndim != 1:
        flat = flat.reshape(-1)   # a view unless idx is oddly strided
    n, d = flat.shape[0], weight.shape[1]
    if out is None:               # a new array shares memory with nothing
        rows = _empty_rows(n, d, dtype)
        bad = _gather_kernel(weight, flat, rows, _threads_for(n * d))
    else:
        if not isinstance(out, _ndarray):
            raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
        if out.dtype is not dtype and out.dtype != dtype:
            raise _mixed_dtype_error("out", out.dtype, "weight", dtype)
        shape = idx.shape + (d,)
        if out.shape != shape:
            raise ValueError(f"out has shape {out.shape} but idx.shape + (D,) is {shape}")
        flags = out.flags
        if not flags.c_contiguous:
            raise ValueError("out must be C-contiguous")
        if not flags.writeable:
            raise ValueError("out is read-only")
        weight = _read_operand(out, weight, "weight")
        flat = _read_operand(out, flat, "idx")
        rows = out if out.ndim == 2 else out.reshape(n, d)
        with _write_lock(out):
            bad = _gather_kernel(weight, flat, rows, _threads_for(n * d))
    if bad >= 0:
        raise _out_of_range_error(idx, bad, weight.shape[0], "weight")
    if out is not None:
        return out
    return rows if idx.ndim == 1 else rows.reshape(idx.shape + (d,))


def index_add(out, idx, src):
    """Add rows of ``src`` into the rows of ``out`` named by ``idx``: the Embedding backward pass.

    For every position ``p`` of ``idx``, ``out[idx[p], :] += src[p, :]``. A row
    named ``k`` times receives all ``k`` rows: this is the vector-Jacobian
    product of :func:`gather` with respect to ``weight``, like ``np.add.at`` or
    ``torch.Tensor.index_add_(0, ...)``. (``out[idx] += src`` would keep only
    one of the duplicates.)

    Parameters
    ----------
    out : ndarray, shape (V, D), float32 or float64
        Updated in place; must be writable. If it is not C-contiguous the sum is
        formed in a contiguous copy which is then written back.
    idx : array_like of int, any shape
        Row numbers in ``[0, V)``.
    src : ndarray, shape ``idx.shape + (D,)``, out's dtype
        Any strides.

    Returns
    -------
    out : ndarray
        The same object, updated.

    Raises
    ------
    TypeError
        Value dtype not float32/float64, ``src`` of another dtype than ``out``,
        ``out`` not an ndarray, or non-integer (bool, float) ``idx``.
    ValueError
        ``out`` not 2-D or read-only, or ``src`` of the wrong shape.
    IndexError
        An index outside ``[0, V)``; nothing is added then.
    RuntimeError
        ``src`` or ``idx`` shares memory with ``out`` (as in
        ``torch.Tensor.index_add_``); nothing is added.

    Notes
    -----
    The compiled kernel may use several threads, always without races; for
    many more indices than rows it sums per-thread partial results, so float
    results can differ from a serial sum in the last bits (deterministically).
    Calls from several Python threads into the same ``out`` (or views of one
    array) take turns, so every update counts.

    Examples
    --------
    >>> g = np.zeros((3, 2))
    >>> index_add(g, np.array([2, 0, 2]), np.ones((3, 2)))
    array([[1., 1.],
           [0., 0.],
           [2., 2.]])
    """
    if not isinstance(out, _ndarray):
        raise TypeError(f"out must be a numpy.ndarray (it is updated in place), got {type(out).__name__}")
    if type(idx) is not _ndarray:
        idx = np.asarray(idx)
    if type(src) is not _ndarray:
        src = np.asarray(src)
    dtype = out.dtype
    if dtype is not _F32 and dtype is not _F64:
        dtype = _value_dtype(dtype, "out")
    if src.dtype is not dtype and src.dtype != dtype:
        raise _mixed_dtype_error("src", src.dtype, "out", dtype)
    if out.ndim != 2:
        raise ValueError(f"out must be 2-D (num_rows, dim), got shape {out.shape}")
    d = out.shape[1]
    if src.shape != idx.shape + (d,):
        raise ValueError(
            f"src has shape {src.shape} but idx.shape + (D,) is {idx.shape + (d,)} "
            f"(idx shape {idx.shape}, out shape {out.shape})"
        )
    flags = out.flags
    if not flags.writeable:
        raise ValueError("out is read-only")
    flat = idx
    if flat.dtype is not _I64 and flat.dtype is not _I32:
        flat = _as_index_array(idx)
    if flat.ndim != 1:
        flat = flat.reshape(-1)
    src = _read_operand(out, src, "src")
    flat = _read_operand(out, flat, "idx")
    rows = src if src.ndim == 2 else src.reshape(flat.shape[0], d)
    with _write_lock(out):
        target = out if flags.c_contiguous else np.ascontiguousarray(out)
        n = flat.shape[0]
        threads = _num_threads if _strategy >= 0 else _threads_for(
            n * d, PRIVATE_MIN_WORK if n >= PRIVATE_INDICES_PER_ROW * out.shape[0] else PARALLEL_MIN_WORK)
        bad = _index_add_kernel(target, flat, rows, threads, _strategy)
        if bad < 0 and target is not out:
            out[...] = target
    if bad >= 0:
        raise _out_of_range_error(idx, bad, out.shape[0], "out")
    return out


#: Index-add strategy code passed to the compiled kernel (-1: chosen per shape).
#: Only tests and benchmarks change it, through :func:`_force_strategy`.
_strategy = -1

def _numpy_empty_rows(n, d, dtype):
    return np.empty((n, d), dtype)


#: The kernels behind the door, by backend: (gather, index_add, allocator of gather results).
#: The compiled backend's allocator reuses the memory of freed large results (see
#: ``empty_rows`` in ``minigrad/_kernels.pyx``).
_KERNELS = {"numpy": (_numpy_gather_kernel, _numpy_index_add_kernel, _numpy_empty_rows)}
if _ext is not None:
    _KERNELS["cython"] = (_ext.gather, _ext.index_add, _ext.empty_rows)

#: The implementation behind :func:`gather` and :func:`index_add`: "cython" or "numpy".
BACKEND = "cython" if _ext is not None else "numpy"
_gather_kernel, _index_add_kernel, _empty_rows = _KERNELS[BACKEND]


def available_backends() -> tuple:
    """Names of the usable backends, e.g. ``("numpy", "cython")``."""
    return tuple(_KERNELS)


def set_backend(name: str) -> None:
    """Make :func:`gather` and :func:`index_add` use backend ``name`` ("cython" or "numpy")."""
    global BACKEND, _gather_kernel, _index_add_kernel, _empty_rows
    if name not in _KERNELS:
        if name == "cython":
            raise RuntimeError("the compiled kernels are not available (extension not built)")
        raise ValueError(f"backend must be 'cython' or 'numpy', got {name!r}")
    BACKEND = name
    _gather_kernel, _index_add_kernel, _empty_rows = _KERNELS[name]


@contextlib.contextmanager
def use_backend(name: str):
    """Context manager: use backend ``name`` inside the block, then restore the previous one."""
    previous = BACKEND
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


@contextlib.contextmanager
def _force_strategy(name: str):
    """Force one index-add strategy of the compiled kernel (tests and benchmarks only)."""
    global _strategy
    if _ext is None:
        raise RuntimeError("the compiled kernels are not available")
    previous, _strategy = _strategy, _ext.STRATEGIES[name]
    try:
        yield
    finally:
        _strategy = previous


# ---------------------------------------------------------------------------
# Fused kernels: the optimizers' updates and EmbeddingBag's sum/mean, each one
# pass over memory instead of several NumPy passes with temporaries. Each door
# returns None (or False) when it cannot take the arrays as they are - NumPy
# backend selected, extension missing, non-contiguous or mixed-dtype arrays -
# and the caller then runs its own NumPy code, which is the reference.
# ---------------------------------------------------------------------------


def _flat_same(*arrays):
    """The arrays as flat views when all are C-contiguous float32/float64 of one dtype and shape."""
    first = arrays[0]
    dtype, shape = first.dtype, first.shape
    if dtype is not _F32 and dtype is not _F64:
        return None
    flat = []
    for a in arrays:
        if type(a) is not _ndarray or a.dtype is not dtype or a.shape != shape or not a.flags.c_contiguous:
            return None
        flat.append(a.reshape(-1))
    return flat


def adam_update_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, lr, beta1, beta2, eps,
                 weight_decay, decoupled_weight_decay, maximize, step) -> bool:
    """One fused Adam/AdamW step in place; False (nothing done) if the compiled kernel cannot run.

    The arithmetic and its rounding follow ``torch.optim.Adam``'s single-tensor
    path element by element (see :class:`minigrad.optim.Adam` for the rule);
    ``max_exp_avg_sq`` is None unless amsgrad. ``param`` must be writable. A
    gradient that shares memory with the parameter is left to the NumPy code,
    whose temporaries make the overlap harmless.
    """
    if BACKEND != "cython" or not param.flags.writeable or np.may_share_memory(param, grad):
        return False
    arrays = (param, grad, exp_avg, exp_avg_sq) + ((max_exp_avg_sq,) if max_exp_avg_sq is not None else ())
    flat = _flat_same(*arrays)
    if flat is None:
        return False
    vmax = flat[4] if max_exp_avg_sq is not None else _EMPTY[param.dtype]
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    _ext.adam(flat[0], flat[1], flat[2], flat[3], vmax, max_exp_avg_sq is not None, bool(maximize),
              float(weight_decay), bool(decoupled_weight_decay), float(lr), float(beta1), float(beta2),
              lr / bias_correction1, bias_correction2 ** 0.5, float(eps))
    return True


def sgd_update_(param, grad, momentum_buffer, *, first, lr, momentum, dampening, weight_decay,
                nesterov, maximize) -> bool:
    """One fused SGD step in place; False (nothing done) if the compiled kernel cannot run.

    ``momentum_buffer`` is None without momentum; with ``first`` it is filled
    with the (decayed, maximize-negated) gradient, as PyTorch's first step does.
    """
    if BACKEND != "cython" or not param.flags.writeable or np.may_share_memory(param, grad):
        return False
    arrays = (param, grad) + ((momentum_buffer,) if momentum_buffer is not None else ())
    flat = _flat_same(*arrays)
    if flat is None:
        return False
    buf = flat[2] if momentum_buffer is not None else _EMPTY[param.dtype]
    _ext.sgd(flat[0], flat[1], buf, momentum_buffer is not None, bool(first), float(lr),
             float(momentum), float(dampening), float(weight_decay), bool(nesterov), bool(maximize))
    return True


def _flat_c(*arrays):
    """The arrays as flat views if all are C-contiguous float32/float64 of one dtype and size, else None."""
    first = arrays[0]
    if first.dtype not in (_F32, _F64):
        return None
    for a in arrays:
        if a.dtype != first.dtype or a.shape != first.shape or not a.flags.c_contiguous:
            return None
    return [a.reshape(-1) for a in arrays]


def gelu_tanh(x):
    """``(y, t)`` with t = tanh(√(2/π)(x + 0.044715x³)) and y = ½x(1 + t); None if the compiled
    loops cannot run (the caller computes it with NumPy).

    Two fused passes around NumPy's vectorised tanh, instead of seven passes:
    forward of GELU (:class:`minigrad.ops.activations.GELU`).
    """
    if BACKEND != "cython" or _flat_c(x) is None:
        return None
    t, y = np.empty_like(x), np.empty_like(x)
    xf, tf, yf = x.reshape(-1), t.reshape(-1), y.reshape(-1)
    _ext.gelu_tanh_arg(xf, tf)
    np.tanh(tf, out=tf)
    _ext.gelu_tanh_value(xf, tf, yf)
    return y, t


def gelu_tanh_grad(x, t, grad):
    """GELU(tanh)'s VJP in one pass from x and t (see :func:`gelu_tanh`); None if it cannot run."""
    if BACKEND != "cython":
        return None
    flat = _flat_c(x, t, grad)
    if flat is None:
        return None
    out = np.empty_like(x)
    _ext.gelu_tanh_grad(*flat, out.reshape(-1))
    return out


#: Longest row :func:`log_softmax_last` takes (see there).
LOG_SOFTMAX_MAX_ROW = 128


def log_softmax_last(x):
    """log_softmax along the last axis of a C-contiguous float array with rows of at most
    :data:`LOG_SOFTMAX_MAX_ROW` values, or None (the caller's NumPy code runs) for other arrays
    and for rows holding an infinite or NaN value.

    Two compiled passes around NumPy's vectorised exp: row max and subtraction, then row sums
    (in double), log and subtraction, where NumPy makes six calls (max, subtract, exp, sum, log,
    subtract) inside an error-state context. Logits of a batch, float32, one thread: 32×27
    11.8 µs against 26.7; 1024×10 62 against 203; 1024×64 245 against 303. On wide rows
    NumPy's vectorised max wins (64×1000: 197 against 284 µs), so they keep the NumPy code.
    Forward of log_softmax and of the cross-entropy losses.
    """
    if BACKEND != "cython" or x.dtype not in (_F32, _F64) or x.ndim == 0 or not x.flags.c_contiguous:
        return None
    d = x.shape[-1]
    if d == 0 or d > LOG_SOFTMAX_MAX_ROW or x.size == 0:
        return None
    x2 = x.reshape(-1, d)
    out, e = np.empty_like(x2), np.empty_like(x2)
    if not _ext.shift_rows(x2, out):
        return None
    np.exp(out, out=e)
    if not _ext.subtract_log_row_sums(out, e):
        return None
    return out.reshape(x.shape)


def layer_norm(x, weight, bias, eps, k):
    """LayerNorm over the last ``k`` dims by rows, one pass per row in cache: ``(y, xhat, rstd)``
    (rstd shaped for broadcasting against x), or None if the compiled loop cannot run or met a
    value it does not handle (an infinite or NaN ``rstd``: the caller's NumPy code rescales or
    propagates). Forward of :class:`minigrad.ops.layers.LayerNorm`.
    """
    if BACKEND != "cython" or _flat_c(x) is None or x.ndim < k:
        return None
    for p in (weight, bias):
        if p is not None and (p.dtype != x.dtype or not p.flags.c_contiguous):
            return None
    lead = x.shape[:x.ndim - k]
    d = math.prod(x.shape[x.ndim - k:])
    rows = math.prod(lead)
    if d == 0 or rows == 0:
        return None
    empty = _EMPTY[x.dtype]
    x2 = x.reshape(rows, d)
    xhat, y, rstd = np.empty_like(x2), np.empty_like(x2), np.empty(rows, x.dtype)
    _ext.layer_norm(x2, empty if weight is None else weight.reshape(-1), empty if bias is None else bias.reshape(-1),
                    weight is not None, bias is not None, float(eps), xhat, rstd, y)
    if not (np.isfinite(rstd).all() and rstd.all()):
        return None
    return y.reshape(x.shape), xhat.reshape(x.shape), rstd.reshape(lead + (1,) * k)


def layer_norm_grad(grad, xhat, rstd, weight, need_x):
    """LayerNorm's VJP by rows from ``xhat`` and ``rstd`` (see :func:`layer_norm`): ``(gx, gw, gb)``
    (gx None unless ``need_x``; gw, gb summed over the leading dims, gw even without a weight),
    or None if the compiled loop cannot run."""
    if BACKEND != "cython" or _flat_c(grad, xhat) is None:
        return None
    if weight is not None and (weight.dtype != grad.dtype or not weight.flags.c_contiguous):
        return None
    rows = rstd.size
    if rows == 0 or xhat.size % rows or (weight is not None and weight.size * rows != xhat.size):
        return None
    d = xhat.size // rows
    g2 = grad.reshape(rows, d)
    gx = np.empty_like(g2) if need_x else _EMPTY2[grad.dtype]
    gw, gb = np.zeros(d), np.zeros(d)
    _ext.layer_norm_grad(g2, xhat.reshape(rows, d), rstd.reshape(rows),
                         _EMPTY[grad.dtype] if weight is None else weight.reshape(-1), weight is not None,
                         bool(need_x), gx, gw, gb)
    return (gx.reshape(grad.shape) if need_x else None), gw.astype(grad.dtype), gb.astype(grad.dtype)


_EMPTY = {_F32: np.empty(0, _F32), _F64: np.empty(0, _F64)}
_EMPTY2 = {_F32: np.empty((0, 0), _F32), _F64: np.empty((0, 0), _F64)}


def _bag_index(idx):
    if type(idx) is not _ndarray or idx.ndim != 1 or (idx.dtype is not _I64 and idx.dtype is not _I32):
        return None
    return idx


def bag_sum(weight, idx, starts, lengths, scale=None, per_sample_weights=None, padding_idx=-1):
    """Fused EmbeddingBag sum/mean forward, or None if the compiled kernel cannot run.

    ``out[b] = scale[b] * sum(per_sample_weights[i] * weight[idx[i]])`` over the
    entries ``i`` of bag ``b`` (``[starts[b], starts[b] + lengths[b])``) that are
    not ``padding_idx``; a missing ``scale`` or ``per_sample_weights`` counts as 1.
    One pass: no ``(n, D)`` array of gathered rows is built.

    Raises
    ------
    IndexError
        An index outside ``[0, V)``.
    """
    if BACKEND != "cython" or type(weight) is not _ndarray or not weight.flags.c_contiguous \
            or weight.ndim != 2 or (weight.dtype is not _F32 and weight.dtype is not _F64):
        return None
    flat = _bag_index(idx)
    dtype = weight.dtype
    if flat is None:
        return None
    for extra in (scale, per_sample_weights):
        if extra is not None and (type(extra) is not _ndarray or extra.dtype is not dtype or extra.ndim != 1):
            return None
    starts = np.ascontiguousarray(starts, dtype=_I64)
    lengths = np.ascontiguousarray(lengths, dtype=_I64)
    out = np.empty((starts.shape[0], weight.shape[1]), dtype)
    bad = _ext.bag_sum(weight, flat, starts, lengths,
                       _EMPTY[dtype] if scale is None else np.ascontiguousarray(scale),
                       _EMPTY[dtype] if per_sample_weights is None else np.ascontiguousarray(per_sample_weights),
                       padding_idx, out)
    if bad >= 0:
        raise _out_of_range_error(idx, bad, weight.shape[0], "weight")
    return out


def bag_sum_backward(grad, idx, starts, lengths, num_rows, scale=None, padding_idx=-1):
    """The VJP of :func:`bag_sum` (no per-sample weights) as a dense (V, D) gradient, or None.

    ``out[idx[i]] += scale[b] * grad[b]`` for every non-pad entry ``i`` of bag ``b``, in
    index order: the result of gathering ``scale * grad`` per entry and index-adding it,
    without the ``(n, D)`` array in between.
    """
    if BACKEND != "cython" or type(grad) is not _ndarray or grad.ndim != 2 \
            or (grad.dtype is not _F32 and grad.dtype is not _F64):
        return None
    flat = _bag_index(idx)
    dtype = grad.dtype
    if flat is None or (scale is not None and (type(scale) is not _ndarray or scale.dtype is not dtype)):
        return None
    starts = np.ascontiguousarray(starts, dtype=_I64)
    lengths = np.ascontiguousarray(lengths, dtype=_I64)
    out = np.zeros((num_rows, grad.shape[1]), dtype)
    bad = _ext.bag_sum_backward(np.ascontiguousarray(grad), flat, starts, lengths,
                                _EMPTY[dtype] if scale is None else np.ascontiguousarray(scale),
                                padding_idx, out)
    if bad >= 0:
        raise _out_of_range_error(idx, bad, num_rows, "weight")
    return out


def sparse_adam_rows_(param, exp_avg, exp_avg_sq, idx, values, *, beta1, beta2, step_size, eps) -> bool:
    """SparseAdam's update of the rows ``idx`` (unique, as after coalescing), fused; False if not run.

    For each listed row ``r`` with gradient row ``g``: ``m[r] += (1 - beta1)(g - m[r])``,
    ``v[r] += (1 - beta2)(g**2 - v[r])``, ``param[r] -= step_size * m[r] / (sqrt(v[r]) + eps)``,
    in one pass, with no gathered copies of the rows (PyTorch's rounding).

    Raises
    ------
    IndexError
        An index outside ``[0, V)``; nothing is changed then.
    """
    if BACKEND != "cython" or not param.flags.writeable or _flat_same(param, exp_avg, exp_avg_sq) is None \
            or param.ndim != 2:
        return False
    flat = _bag_index(idx)
    if flat is None or type(values) is not _ndarray or values.dtype is not param.dtype:
        return False
    bad = _ext.sparse_adam(param, exp_avg, exp_avg_sq, flat, np.ascontiguousarray(values),
                           float(beta1), float(beta2), float(step_size), float(eps))
    if bad >= 0:
        raise _out_of_range_error(idx, bad, param.shape[0], "param")
    return True
