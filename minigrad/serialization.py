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
never half of one. Reading checks the zip structure and every member's CRC,
then the manifest against the arrays, and raises :class:`CheckpointError`
naming the file and the problem for a truncated, corrupted or foreign file.
"""
from __future__ import annotations

import io
import json
import os
from collections import OrderedDict

import numpy as np

from minigrad.sparse import SparseTensor
from minigrad.tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "to_torch_state_dict", "from_torch_state_dict"]

_FORMAT = "minigrad-checkpoint"
_VERSION = 1
_MANIFEST = "__manifest__"


class CheckpointError(ValueError):
    """A file that is not a readable minigrad checkpoint (truncated, corrupted, pickled, foreign)."""


# -- encoding ----------------------------------------------------------------------------
class _Encoder:
    """Turns a nested object into a JSON-able manifest plus a dict of named arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _array(self, arr: np.ndarray, where: str) -> str:
        arr = np.asarray(arr)
        if arr.dtype.hasobject or arr.dtype.kind not in "biufc":
            raise TypeError(
                f"cannot save the array at {where}: dtype {arr.dtype} is not a plain numeric/bool dtype "
                "(saving it would need pickle)"
            )
        key = f"a{len(self.arrays)}"
        self.arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        return key

    def _meta(self, arr: np.ndarray) -> dict:
        return {"dtype": arr.dtype.str, "shape": list(arr.shape)}

    def encode(self, obj, where: str = "obj"):
        # bool before int: bool is a subclass of int.
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
            from minigrad.nn.parameter import Parameter

            kind = "parameter" if isinstance(obj, Parameter) else "tensor"
            return {"t": kind, "k": self._array(obj.data, where), "requires_grad": obj.requires_grad,
                    "meta": self._meta(obj.data)}
        if isinstance(obj, np.ndarray):
            return {"t": "ndarray", "k": self._array(obj, where), "meta": self._meta(obj)}
        if isinstance(obj, np.generic):
            arr = np.asarray(obj)
            return {"t": "npscalar", "k": self._array(arr, where), "meta": self._meta(arr)}
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
        raise TypeError(
            f"cannot save {where} of type {type(obj).__module__}.{type(obj).__name__}: a checkpoint holds "
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
        appended). A file object is simply written to.

    Raises
    ------
    TypeError
        For anything else (a module, a function, an object array...), naming
        where in ``obj`` it sits.

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
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    import tempfile  # here, not at the top: keeps `import minigrad` lean

    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
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


def load(f, map_location=None, weights_only: bool = True):
    """Load an object saved by :func:`save`. Never unpickles, so never runs code from the file.

    Parameters
    ----------
    f : str or os.PathLike or binary file object
    map_location, weights_only
        Accepted for PyTorch compatibility and ignored (minigrad is CPU only and
        only ever loads data).

    Returns
    -------
    object
        The saved structure, with Tensors, Parameters, arrays, row-sparse
        tensors, tuples and dict key types as they were saved.

    Raises
    ------
    CheckpointError
        If the file is empty, truncated, corrupted, holds a pickle (e.g. made by
        ``torch.save`` or :mod:`pickle`), or is not a minigrad checkpoint. The
        message names the file and the problem.
    """
    name = _name(f)

    def fail(why: str):
        return CheckpointError(f"cannot load checkpoint {name!r}: {why}")

    try:
        raw = _read_bytes(f)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise fail(f"reading failed ({exc})") from exc
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
    import zipfile  # here, not at the top: it pulls in the compression modules at import

    buf = io.BytesIO(raw)
    try:
        with zipfile.ZipFile(buf) as zf:
            bad = zf.testzip()  # reads every member and checks its CRC-32
            names = zf.namelist()
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError) as exc:
        raise fail(f"the archive is truncated or corrupted ({exc})") from exc
    except Exception as exc:  # zlib.error and friends from a damaged member
        raise fail(f"the archive is corrupted ({type(exc).__name__}: {exc})") from exc
    if bad is not None:
        raise fail(f"the archive is corrupted (CRC mismatch in member {bad!r})")
    if any(n.endswith(".pkl") for n in names):
        raise fail("it holds pickled data (a torch.save file?); minigrad never unpickles files")
    if _MANIFEST + ".npy" not in names:
        raise fail("it has no minigrad manifest (not written by minigrad.save)")

    buf.seek(0)
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(buf, allow_pickle=False) as npz:
            for key in npz.files:
                arrays[key] = npz[key]
    except ValueError as exc:
        msg = str(exc)
        if "pickle" in msg.lower() or "object" in msg.lower():
            raise fail(f"it holds pickled (object) arrays, which minigrad never loads ({msg})") from exc
        raise fail(f"an array member is malformed ({msg})") from exc
    except Exception as exc:
        raise fail(f"an array member is malformed ({type(exc).__name__}: {exc})") from exc

    manifest_arr = arrays.pop(_MANIFEST)
    if manifest_arr.dtype.kind != "U" or manifest_arr.ndim != 0:
        raise fail("its manifest is not a string")
    try:
        manifest = json.loads(str(manifest_arr))
    except json.JSONDecodeError as exc:
        raise fail(f"its manifest is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise fail("its manifest is not a minigrad checkpoint manifest")
    if manifest.get("version") != _VERSION:
        raise fail(f"unsupported checkpoint version {manifest.get('version')!r} (this minigrad reads {_VERSION})")
    try:
        return _Decoder(arrays).decode(manifest["root"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise fail(f"its manifest does not match its arrays ({type(exc).__name__}: {exc})") from exc


class _Decoder:
    def __init__(self, arrays: dict) -> None:
        self.arrays = arrays

    def _array(self, key: str, meta: dict | None) -> np.ndarray:
        if key not in self.arrays:
            raise KeyError(f"missing array member {key!r}")
        arr = self.arrays[key]
        if meta is not None and (np.dtype(meta["dtype"]) != arr.dtype or list(arr.shape) != list(meta["shape"])):
            raise ValueError(
                f"member {key!r} is {arr.dtype} {tuple(arr.shape)}, the manifest says "
                f"{np.dtype(meta['dtype'])} {tuple(meta['shape'])}"
            )
        return arr

    def decode(self, node):
        t = node["t"]
        if t == "none":
            return None
        if t == "bool":
            return bool(node["v"])
        if t == "int":
            return int(node["v"])
        if t == "float":
            return float(node["v"])
        if t == "str":
            return str(node["v"])
        if t == "list":
            return [self.decode(n) for n in node["items"]]
        if t == "tuple":
            return tuple(self.decode(n) for n in node["items"])
        if t in ("dict", "odict"):
            out = OrderedDict() if t == "odict" else {}
            for k, v in node["items"]:
                out[self.decode(k)] = self.decode(v)
            return out
        if t == "ndarray":
            return self._array(node["k"], node.get("meta"))
        if t == "npscalar":
            return self._array(node["k"], node.get("meta"))[()]
        if t == "tensor":
            out = Tensor(self._array(node["k"], node.get("meta")))
            if node.get("requires_grad"):
                out.requires_grad_(True)
            return out
        if t == "parameter":
            from minigrad.nn.parameter import Parameter

            return Parameter(self._array(node["k"], node.get("meta")), requires_grad=bool(node["requires_grad"]))
        if t == "sparse":
            meta = node.get("meta") or [None, None]
            return SparseTensor(
                self._array(node["idx"], meta[0]), self._array(node["val"], meta[1]), tuple(node["shape"]),
                is_coalesced=bool(node["coalesced"]),
            )
        raise ValueError(f"unknown node type {t!r}")


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
            return torch.from_numpy(np.array(v.data, copy=True))
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
