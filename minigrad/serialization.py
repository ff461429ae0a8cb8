"""Checkpoints without pickle: ``save``/``load`` of state dicts as NumPy ``.npz`` files.

``torch.save`` pickles, and unpickling a file can run any code inside it. A
minigrad checkpoint holds only data, so loading one never executes anything:

* every array (and the array inside every Tensor) is an ``.npy`` member of an
  ``.npz`` (zip) archive, read back with ``allow_pickle=False``;
* the nesting around them - dicts (with their key types: an optimizer's
  state is keyed by ints), lists, tuples, numbers, strings, bools, None - is a
  JSON *manifest*, stored as one more (string) array in the archive. Each leaf
  array is referred to by its member name, with its type (ndarray, Tensor,
  Parameter, row-sparse gradient, NumPy scalar) so it loads back as what it was.

Writes are atomic: the archive is written to a temporary file in the target
directory, flushed and fsync'ed, then renamed over the target with
:func:`os.replace`. A crash leaves either the old checkpoint or the new one,
never half of one. The temporary file is locked while it is written; one left
behind by a killed process (``kill -9`` runs no cleanup) is unlocked, and the
next save of the same target removes it. The file gets the permissions
``open()`` would give it (the umask's for a new file, the old mode for an
overwrite), and a symlink is written through, to its target.

The same object saved under several names (tied weights: one Parameter, or
one array, in two places) is stored once and comes back as one object.

Reading checks the zip structure, the size every member declares (none may
inflate past :data:`MAX_INFLATION` times the file's size, nor hold an array
bigger than its bytes), every member's CRC, then the manifest against the
arrays and what :func:`save` guarantees (numeric dtypes, sparse indices that
are integers in range, ...), and raises :class:`CheckpointError` naming the
file and the problem for a truncated, corrupted, foreign or forged file.
"""
from __future__ import annotations

import io
import json
import os
import re
import stat
from collections import OrderedDict

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

import numpy as np

from minigrad.sparse import SparseTensor
from minigrad.tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "to_torch_state_dict", "from_torch_state_dict"]

_FORMAT = "minigrad-checkpoint"
_VERSION = 1
_MANIFEST = "__manifest__"

#: A member of a checkpoint may declare at most this many times the file's size
#: (plus 1 MiB) once inflated. :func:`save` never compresses, so its members are
#: never larger than the file; the limit keeps a small forged or damaged file
#: from being loaded as gigabytes (a 1 MB file declaring a 1 GiB array).
MAX_INFLATION = 16


class CheckpointError(ValueError):
    """A file that is not a readable minigrad checkpoint (truncated, corrupted, pickled, foreign)."""


# -- encoding ----------------------------------------------------------------------------
class _Encoder:
    """Turns a nested object into a JSON-able manifest plus a dict of named arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        # Tied objects: an array (any object viewing the same memory the same way) or a
        # Tensor met again is stored once; `_keep` keeps the originals alive so their
        # ids and addresses stay unique while encoding.
        self._array_keys: dict[tuple, str] = {}
        self._tensor_ids: dict[int, int] = {}
        self._keep: list = []

    def _array(self, arr: np.ndarray, where: str) -> str:
        arr = np.asarray(arr)
        if arr.dtype.hasobject or arr.dtype.kind not in "biufc":
            raise TypeError(
                f"cannot save the array at {where}: dtype {arr.dtype} is not a plain numeric/bool dtype "
                "(saving it would need pickle)"
            )
        layout = (arr.__array_interface__["data"][0], arr.shape, arr.strides, arr.dtype.str)
        if layout in self._array_keys:
            return self._array_keys[layout]
        key = f"a{len(self.arrays)}"
        self._keep.append(arr)
        self._array_keys[layout] = key
        self.arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        return key

    def _meta(self, arr: np.ndarray) -> dict:
        return {"dtype": arr.dtype.str, "shape": list(arr.shape)}

    def encode(self, obj, where: str = "obj"):
        # NumPy scalars before Python's (np.float64 is a float subclass), bool before int.
        if isinstance(obj, np.generic):
            arr = np.asarray(obj)
            return {"t": "npscalar", "k": self._array(arr, where), "meta": self._meta(arr)}
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, bool):
            return {"t": "bool", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": int(obj)}
        if isinstance(obj, float):
            return {"t": "float", "v": float(obj)}  # JSON keeps repr: round-trips exactly (nan/inf too)
        if isinstance(obj, str):
            return {"t": "str", "v": obj}
        if isinstance(obj, SparseTensor):
            return {
                "t": "sparse", "shape": list(obj.shape), "coalesced": obj.is_coalesced(),
                "idx": self._array(obj._idx, where + ".indices"),
                "val": self._array(obj._val, where + ".values"),
                "meta": [self._meta(obj._idx), self._meta(obj._val)],
            }
        if isinstance(obj, Tensor):
            # A declared seam (tests/test_layering.py): minigrad.save sits beside the tensor
            # layer, and Parameter is the one nn class a checkpoint knows; imported when used.
            from minigrad.nn.parameter import Parameter

            kind = "parameter" if isinstance(obj, Parameter) else "tensor"
            self._keep.append(obj)
            ident = self._tensor_ids.setdefault(id(obj), len(self._tensor_ids))
            arr = obj.detach().numpy()   # the array itself, shared
            return {"t": kind, "k": self._array(arr, where), "requires_grad": obj.requires_grad,
                    "meta": self._meta(arr), "id": ident}
        if isinstance(obj, np.ndarray):
            return {"t": "ndarray", "k": self._array(obj, where), "meta": self._meta(obj)}
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {"t": kind, "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            kind = "odict" if isinstance(obj, OrderedDict) else "dict"
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int, float, bool, type(None), tuple)):
                    raise TypeError(f"cannot save the dict key {k!r} at {where}: type {type(k).__name__}")
                items.append([self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")])
            return {"t": kind, "items": items}
        kind = f"{type(obj).__module__}.{type(obj).__name__}"
        if callable(getattr(obj, "state_dict", None)):
            # torch.save(model) pickles the module; minigrad never pickles (loading a
            # pickle can run any code), so say what to save instead, in the names a
            # training script uses (a module has forward, an optimizer param_groups).
            name = ("model" if callable(getattr(obj, "forward", None)) else
                    "optimizer" if hasattr(obj, "param_groups") else type(obj).__name__.lower())
            raise TypeError(
                f"cannot save {where} of type {kind}: minigrad saves state dicts, not whole objects "
                f"(that would need pickle). Save its state dict instead: minigrad.save({name}.state_dict(), f); "
                f"to restore it, build a new {type(obj).__name__} and call {name}.load_state_dict(minigrad.load(f))"
            )
        raise TypeError(
            f"cannot save {where} of type {kind}: a checkpoint holds "
            "dicts, lists, tuples, arrays, Tensors, numbers, strings, bools and None"
        )


def _write_npz(fileobj, arrays: dict) -> None:
    np.savez(fileobj, **arrays)


def save(obj, f) -> None:
    """Save ``obj`` (e.g. a state dict) to ``f`` as an ``.npz`` checkpoint, atomically.

    Parameters
    ----------
    obj : nested dict / list / tuple of arrays, Tensors, numbers, strings, bools, None
        Dict keys may be str, int, float, bool, None or tuples of those; their
        types are kept. Row-sparse tensors and NumPy scalars are kept too.
    f : str or os.PathLike or binary file object
        A path is written atomically (temporary file in the same directory,
        fsync, :func:`os.replace`); the name is used as given (no ``.npz`` is
        appended), a symlink is written through to its target, and the file's
        permissions are what ``open()`` would give (an overwrite keeps the old
        mode). A file object is simply written to.

    Raises
    ------
    TypeError
        For anything else (a function, an object array...), naming where in
        ``obj`` it sits. A module or optimizer itself is refused with a message
        saying to save its ``state_dict()`` (``torch.save`` would pickle it).

    Examples
    --------
    >>> import os, tempfile, numpy as np, minigrad
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> minigrad.save({"w": minigrad.tensor([1.0, 2.0]), "step": 3, 0: (1, "a")}, path)
    >>> minigrad.load(path)
    {'w': tensor([1., 2.]), 'step': 3, 0: (1, 'a')}
    """
    enc = _Encoder()
    manifest = {"format": _FORMAT, "version": _VERSION, "root": enc.encode(obj)}
    text = json.dumps(manifest, allow_nan=True)
    arrays = dict(enc.arrays)
    arrays[_MANIFEST] = np.array(text)  # a 0-d unicode array: no pickle needed

    if hasattr(f, "write"):
        _write_npz(f, arrays)
        return
    # Through a symlink to its target, as open() writes: replacing the link itself
    # would turn it into a plain file and leave the target stale.
    path = os.path.realpath(os.fspath(f))
    directory, base = os.path.split(path)
    _remove_stale_temp_files(directory, base)
    fd, tmp = _create_temp_file(directory, base)
    try:
        with os.fdopen(fd, "wb") as fh:   # closing it also drops the lock
            try:
                # An overwrite keeps the old file's mode; a new file has the umask's (os.open).
                os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
            except FileNotFoundError:
                pass
            _write_npz(fh, arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    # Make the rename itself durable (best effort: not every platform can fsync a directory).
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# Temporary files are named ".<target name>.<16 hex digits>.tmp" in the target's
# directory and hold an exclusive flock while written. The kernel drops the lock
# when its process ends, however it ends, so an unlocked temporary file of the
# same target is one nobody will finish: the next save removes it.
_TEMP_NAME = re.compile(r"\.(?P<base>.+)\.[0-9A-Za-z_]{8,16}\.tmp\Z", re.DOTALL)


def _create_temp_file(directory: str, base: str):
    """A new, locked, empty temporary file beside the target: (fd, path)."""
    while True:
        tmp = os.path.join(directory, f".{base}.{os.urandom(8).hex()}.tmp")
        # Mode 0o666 minus the umask, as open() would create the target.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        if fcntl is None:
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink > 0:
            return fd, tmp
        # A concurrent save's cleanup took the lock between our create and flock, and
        # removed the file as stale: start again with a new name.
        os.close(fd)


def _remove_stale_temp_files(directory: str, base: str) -> None:
    """Remove the temporary files of ``base`` that no live process is writing."""
    if fcntl is None:   # no flock (Windows): a stale file cannot be told from a live one
        return
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None or match.group("base") != base:
            continue
        full = os.path.join(directory, name)
        try:
            fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Locked by us now: its writer is gone. Remove it if the name is still this file.
            if os.path.samestat(os.fstat(fd), os.lstat(full)):
                os.unlink(full)
        except OSError:   # BlockingIOError: a live save holds it; or it vanished meanwhile
            pass
        finally:
            os.close(fd)


# -- decoding ----------------------------------------------------------------------------
def _name(f) -> str:
    if hasattr(f, "read"):
        return getattr(f, "name", "<file object>")
    return os.fspath(f)


def _read_bytes(f) -> bytes:
    if hasattr(f, "read"):
        return f.read()
    with open(f, "rb") as fh:
        return fh.read()


def _check_map_location(map_location) -> None:
    """``map_location`` as PyTorch takes it; every device it names must be the CPU."""
    if map_location is None or callable(map_location):
        return   # a function remaps storages; there is nothing but the CPU to map to
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        name = getattr(target, "type", target)     # torch.device / minigrad.device
        if not isinstance(name, str):
            raise TypeError(f"map_location must be a string, a device, a dict or a function, got {target!r}")
        if name.partition(":")[0] != "cpu":
            raise RuntimeError(
                f"map_location={target!r}: minigrad runs on the CPU only; load to 'cpu' (or leave "
                "map_location out)"
            )


def load(f, map_location=None, weights_only=None):
    """Load an object saved by :func:`save`. Never unpickles, so never runs code from the file.

    Parameters
    ----------
    f : str or os.PathLike or binary file object
        A path (``str``, :class:`pathlib.Path`) or an open binary file.
    map_location : None, str, device, dict or callable, optional
        As in ``torch.load``. minigrad has only the CPU, so every device named
        must be the CPU (``'cpu'``, ``'cpu:0'``, ``device('cpu')``, or a dict
        mapping to those); another device is a ``RuntimeError``.
    weights_only : bool, optional
        Accepted as in ``torch.load``. A minigrad checkpoint is only ever loaded
        as data (tensors, arrays, containers, numbers, strings), whatever its value.

    Returns
    -------
    object
        The saved structure, with Tensors, Parameters, arrays, row-sparse
        tensors, tuples and dict key types as they were saved; an object saved
        under several names is one object again.

    Raises
    ------
    CheckpointError
        If the file is empty, truncated, corrupted, holds a pickle (e.g. made by
        ``torch.save`` or :mod:`pickle`), is not a minigrad checkpoint, declares
        members larger than :data:`MAX_INFLATION` allows, or holds something
        :func:`save` cannot have written (a non-numeric array, a sparse index out
        of range, ...). The message names the file and the problem.
    """
    _check_map_location(map_location)
    name = _name(f)

    def fail(why: str):
        return CheckpointError(f"cannot load checkpoint {name!r}: {why}")

    try:
        raw = _read_bytes(f)
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise fail(f"reading failed ({exc})") from exc
    if not isinstance(raw, bytes):
        raise TypeError(f"load() needs a path or a binary file object; reading {name!r} gave {type(raw).__name__}")
    if len(raw) == 0:
        raise fail("the file is empty (an interrupted write?)")
    if not raw.startswith(b"PK"):
        if raw[:1] == b"\x80" or raw[:1] in (b"(", b"]", b"}"):  # pickle opcodes (PROTO, MARK, ...)
            raise fail(
                "it holds a pickled Python object; minigrad never unpickles files, because unpickling "
                "can run arbitrary code. Convert it to a state dict of arrays and save it with minigrad.save"
            )
        if raw.startswith(b"\x93NUMPY"):
            raise fail("it is a single .npy array, not a checkpoint archive")
        raise fail("it is not an .npz (zip) archive")
    try:
        arrays = _read_members(raw, fail)
        manifest = _read_manifest(arrays.pop(_MANIFEST), fail)
        return _Decoder(arrays).decode(manifest["root"])
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        # A manifest that parses but does not describe what save writes (forged or damaged).
        raise fail(f"its manifest does not match its arrays ({type(exc).__name__}: {exc})") from None


def _read_members(raw: bytes, fail) -> dict:
    """Every member of the archive as an array, after checking sizes, CRCs and headers."""
    import zipfile  # here, not at the top: it pulls in the compression modules at import

    limit = MAX_INFLATION * len(raw) + (1 << 20)
    buf = io.BytesIO(raw)
    try:
        with zipfile.ZipFile(buf) as zf:
            infos = zf.infolist()
            for info in infos:
                if info.file_size > limit:
                    raise fail(
                        f"member {info.filename!r} declares {info.file_size} bytes, more than "
                        f"{MAX_INFLATION} times the file's {len(raw)} bytes (a damaged or forged archive)"
                    )
            names = [info.filename for info in infos]
            if any(n.endswith(".pkl") for n in names):
                raise fail("it holds pickled data (a torch.save file?); minigrad never unpickles files")
            if _MANIFEST + ".npy" not in names:
                raise fail("it has no minigrad manifest (not written by minigrad.save)")
            bad = zf.testzip()  # reads every member (at most its declared size) and checks its CRC-32
            if bad is not None:
                raise fail(f"the archive is corrupted (CRC mismatch in member {bad!r})")
            for info in infos:
                _check_npy_header(zf, info, fail)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError) as exc:
        raise fail(f"the archive is truncated or corrupted ({exc})") from None
    except Exception as exc:  # zlib.error, an encrypted member's RuntimeError, ...
        raise fail(f"the archive is corrupted ({type(exc).__name__}: {exc})") from None

    buf.seek(0)
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(buf, allow_pickle=False) as npz:
            for key in npz.files:
                arrays[key] = npz[key]
    except ValueError as exc:
        msg = str(exc)
        if "pickle" in msg.lower() or "object" in msg.lower():
            raise fail(f"it holds pickled (object) arrays, which minigrad never loads ({msg})") from None
        raise fail(f"an array member is malformed ({msg})") from None
    except Exception as exc:
        raise fail(f"an array member is malformed ({type(exc).__name__}: {exc})") from None
    return arrays


def _check_npy_header(zf, info, fail) -> None:
    """The member is an .npy array of a plain dtype whose declared size is exactly its bytes.

    Checked before NumPy reads it: NumPy allocates what the header declares
    before it finds the data too short.
    """
    fmt = np.lib.format
    with zf.open(info) as fh:
        try:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = fmt.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except ValueError as exc:
            raise fail(f"member {info.filename!r} is not a valid .npy array ({exc})") from None
        header_size = fh.tell()
    if dtype.hasobject:
        raise fail(f"member {info.filename!r} holds pickled (object) data, which minigrad never loads")
    is_manifest = info.filename == _MANIFEST + ".npy"
    if dtype.names is not None or dtype.kind not in ("U" if is_manifest else "biufc"):
        raise fail(f"member {info.filename!r} has dtype {dtype}, which minigrad.save never writes")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if header_size + nbytes != info.file_size:
        raise fail(
            f"member {info.filename!r} declares a {dtype} array of shape {tuple(shape)} ({nbytes} bytes) "
            f"but holds {info.file_size - header_size} bytes of data"
        )


def _read_manifest(manifest_arr: np.ndarray, fail) -> dict:
    if manifest_arr.dtype.kind != "U" or manifest_arr.ndim != 0:
        raise fail("its manifest is not a string")
    try:
        manifest = json.loads(str(manifest_arr))
    except (ValueError, RecursionError) as exc:   # JSONDecodeError, too many digits, too deep
        raise fail(f"its manifest is not valid JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT or "root" not in manifest:
        raise fail("its manifest is not a minigrad checkpoint manifest")
    if manifest.get("version") != _VERSION:
        raise fail(f"unsupported checkpoint version {manifest.get('version')!r} (this minigrad reads {_VERSION})")
    return manifest


def _expect(ok: bool, why: str) -> None:
    if not ok:
        raise ValueError(why)


class _Decoder:
    """Rebuilds the saved object, checking every node against what :func:`save` writes."""

    def __init__(self, arrays: dict) -> None:
        self.arrays = arrays
        self.tensors: dict = {}   # "id" of a saved Tensor -> the one object it loads as

    def _array(self, key, meta, kinds: str = "biufc") -> np.ndarray:
        _expect(isinstance(key, str) and key in self.arrays, f"missing array member {key!r}")
        arr = self.arrays[key]
        _expect(arr.dtype.kind in kinds, f"member {key!r} has dtype {arr.dtype} where {kinds!r} kinds belong")
        if meta is not None:
            _expect(isinstance(meta, dict), "array metadata is not an object")
            if np.dtype(meta["dtype"]) != arr.dtype or list(arr.shape) != list(meta["shape"]):
                raise ValueError(
                    f"member {key!r} is {arr.dtype} {tuple(arr.shape)}, the manifest says "
                    f"{np.dtype(meta['dtype'])} {tuple(meta['shape'])}"
                )
        return arr

    def decode(self, node):
        _expect(isinstance(node, dict), f"a manifest node is {type(node).__name__}, not an object")
        t = node["t"]
        if t == "none":
            return None
        if t in ("bool", "int", "float", "str"):
            v = node["v"]
            expected = {"bool": bool, "int": int, "float": (int, float), "str": str}[t]
            _expect(isinstance(v, expected) and (t == "bool" or not isinstance(v, bool)),
                    f"a {t} node holds {type(v).__name__}")
            return {"bool": bool, "int": int, "float": float, "str": str}[t](v)
        if t in ("list", "tuple"):
            items = [self.decode(n) for n in node["items"]]
            return tuple(items) if t == "tuple" else items
        if t in ("dict", "odict"):
            out = OrderedDict() if t == "odict" else {}
            for item in node["items"]:
                _expect(isinstance(item, list) and len(item) == 2, "a dict item is not a [key, value] pair")
                key = self.decode(item[0])
                hash(key)   # a list key would only fail later, in the caller's hands
                out[key] = self.decode(item[1])
            return out
        if t == "ndarray":
            return self._array(node["k"], node.get("meta"))
        if t == "npscalar":
            arr = self._array(node["k"], node.get("meta"))
            _expect(arr.ndim == 0, f"a NumPy scalar has shape {arr.shape}")
            return arr[()]
        if t in ("tensor", "parameter"):
            return self._tensor(t, node)
        if t == "sparse":
            return self._sparse(node)
        raise ValueError(f"unknown node type {t!r}")

    def _tensor(self, t: str, node):
        ident = node.get("id")
        if ident is not None and ident in self.tensors:   # the same Tensor saved under another name
            out = self.tensors[ident]
            _expect(type(out).__name__.lower() == t, f"object {ident} is saved as two kinds")
            return out
        arr = self._array(node["k"], node.get("meta"), kinds="biuf")
        requires_grad = node["requires_grad"]
        _expect(isinstance(requires_grad, bool), "requires_grad is not a bool")
        _expect(not requires_grad or arr.dtype.kind == "f",
                f"a {arr.dtype} tensor cannot require grad (only floating point tensors can)")
        if t == "parameter":
            from minigrad.nn.parameter import Parameter

            out = Parameter(arr, requires_grad=requires_grad)   # shares arr: tied arrays stay tied
        else:
            out = Tensor._make(arr, requires_grad, None)        # no copy, as Parameter
        if ident is not None:
            self.tensors[ident] = out
        return out

    def _sparse(self, node):
        meta = node.get("meta") or [None, None]
        _expect(isinstance(meta, list) and len(meta) == 2, "sparse metadata is not a pair")
        idx = self._array(node["idx"], meta[0], kinds="iu")
        val = self._array(node["val"], meta[1], kinds="biuf")
        shape = node["shape"]
        _expect(isinstance(shape, list) and len(shape) == 2
                and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape),
                f"a row-sparse shape must be two non-negative ints, got {shape!r}")
        _expect(idx.ndim == 1 and val.ndim == 2 and val.shape == (idx.shape[0], shape[1]),
                f"row-sparse indices {idx.shape} and values {val.shape} do not fit shape {tuple(shape)}")
        if idx.size:
            _expect(int(idx.min()) >= 0 and int(idx.max()) < shape[0],
                    f"row-sparse indices must lie in [0, {shape[0]}), got [{idx.min()}, {idx.max()}]")
        coalesced = node["coalesced"]
        _expect(isinstance(coalesced, bool), "coalesced is not a bool")
        return SparseTensor(idx, val, tuple(shape), is_coalesced=coalesced)


# -- PyTorch interchange -----------------------------------------------------------------
def to_torch_state_dict(state_dict):
    """A copy of ``state_dict`` with every minigrad Tensor turned into a ``torch.Tensor``.

    Nested dicts/lists/tuples are walked; other values are kept. The tensors
    are copies (no memory is shared with minigrad). ``torch`` is imported only
    when this is called.

    Examples
    --------
    >>> import torch, minigrad
    >>> sd = to_torch_state_dict({"weight": minigrad.tensor([[1.0, 2.0]])})
    >>> torch.nn.Linear(2, 1, bias=False).load_state_dict(sd)
    <All keys matched successfully>
    """
    import torch

    def conv(v):
        if isinstance(v, Tensor):
            return torch.from_numpy(np.array(v._array, copy=True))
        if isinstance(v, SparseTensor):
            return torch.sparse_coo_tensor(
                torch.from_numpy(v._idx.reshape(1, -1).copy()), torch.from_numpy(v._val.copy()), v.shape
            )
        if isinstance(v, dict):
            return type(v)((k, conv(x)) for k, x in v.items()) if isinstance(v, OrderedDict) else {
                k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(conv(x) for x in v)
        return v

    return conv(state_dict)


def from_torch_state_dict(state_dict):
    """A copy of ``state_dict`` with every ``torch.Tensor`` turned into a minigrad Tensor.

    Dense tensors become :class:`~minigrad.Tensor` (same dtype, copied, not
    requiring grad); sparse COO matrices with one sparse dimension become
    :class:`~minigrad.sparse.SparseTensor`. Nested containers are walked.
    """
    import torch

    def conv(v):
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu()
            if v.is_sparse:
                idx = v._indices()
                if idx.shape[0] != 1 or v.dim() != 2:
                    raise ValueError(f"only row-sparse (V, D) tensors convert; got sparse shape {tuple(v.shape)}")
                return SparseTensor(idx[0].numpy().copy(), v._values().numpy().copy(), tuple(v.shape),
                                    is_coalesced=v.is_coalesced())
            return Tensor(v.numpy().copy())
        if isinstance(v, OrderedDict):
            return OrderedDict((k, conv(x)) for k, x in v.items())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(conv(x) for x in v)
        return v

    return conv(state_dict)
