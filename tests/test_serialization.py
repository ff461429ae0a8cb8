"""Checkpoints: pickle-free .npz save/load, atomic writes, clear errors, exact resumption."""
import io
import json
import os
import pickle
import stat
import subprocess
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.optim as optim
from minigrad import nn
from minigrad.nn.parameter import Parameter
from minigrad.nn.utils import clip_grad_norm_
from minigrad.serialization import CheckpointError, from_torch_state_dict, load, save, to_torch_state_dict
from minigrad.sparse import SparseTensor

# -- strategies for nested state --------------------------------------------------------------
_dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.bool_, np.uint8])
_arrays = st.builds(
    lambda shape, dtype, seed: (np.random.default_rng(seed).normal(size=shape) * 10).astype(dtype),
    st.lists(st.integers(0, 4), max_size=3).map(tuple), _dtypes, st.integers(0, 1000),
)
_scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True)
            | st.text(max_size=8))
_leaves = _scalars | _arrays | _arrays.map(minigrad.tensor)
_keys = st.text(max_size=6) | st.integers(-5, 100) | st.booleans() | st.none()
_nested = st.recursive(
    _leaves,
    lambda children: (st.lists(children, max_size=4) | st.lists(children, max_size=4).map(tuple)
                      | st.dictionaries(_keys, children, max_size=4)),
    max_leaves=12,
)


def assert_same(a, b, where="obj"):
    """Equal values *and* types, recursively (dict key types included)."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, minigrad.Tensor):
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad, where
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=where)
    elif isinstance(a, SparseTensor):
        assert a.shape == b.shape and a.is_coalesced() == b.is_coalesced()
        np.testing.assert_array_equal(a._idx, b._idx)
        np.testing.assert_array_equal(a._val, b._val)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), where
        for (ka, va), kb in zip(a.items(), b.keys()):
            assert type(ka) is type(kb), (where, ka, kb)
            assert_same(va, b[kb], f"{where}[{ka!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


@given(obj=_nested)
def test_save_load_round_trips_nested_state_with_types(obj, tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "state.npz"
    save(obj, path)
    assert_same(obj, load(path))


def test_round_trip_keeps_tensor_kinds_sparse_grads_numpy_scalars_and_ordered_dicts(tmp_path):
    obj = OrderedDict(
        w=Parameter(np.ones((2, 3), dtype=np.float32)),
        frozen=Parameter(np.zeros(2), requires_grad=False),
        t=minigrad.tensor([1.0, 2.0], requires_grad=True),
        s=SparseTensor(np.array([3, 1, 3]), np.arange(6.0).reshape(3, 2), (5, 2)),
        n=np.float32(1.5), i=np.int64(7), ratio=1 / 3, big=2**80, tup=(1, (2.0, "x")),
    )
    obj[(1, "k")] = "tuple key"
    path = tmp_path / "x.npz"
    save(obj, path)
    out = load(path)
    assert_same(obj, out)
    assert isinstance(out["w"], Parameter) and out["frozen"].requires_grad is False


def test_save_writes_to_the_given_name_and_file_objects(tmp_path):
    path = tmp_path / "model.ckpt"  # no .npz suffix is appended
    save({"a": 1}, str(path))
    assert os.listdir(tmp_path) == ["model.ckpt"]
    buf = io.BytesIO()
    save({"a": np.arange(3)}, buf)
    buf.seek(0)
    assert_same(load(buf), {"a": np.arange(3)})


def test_unsupported_objects_are_rejected_with_their_location(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['model'\].*function"):
        save({"model": lambda x: x}, tmp_path / "f.npz")
    with pytest.raises(TypeError, match="pickle"):
        save({"a": np.array([{}], dtype=object)}, tmp_path / "f.npz")
    assert not (tmp_path / "f.npz").exists()


# -- atomic writes -------------------------------------------------------------------------------
def test_a_crash_while_writing_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    save({"version": 1, "w": np.ones(4)}, path)
    from minigrad import serialization

    def crashing_write(fileobj, arrays):
        fileobj.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt  # e.g. the process is stopped mid-write

    monkeypatch.setattr(serialization, "_write_npz", crashing_write)
    with pytest.raises(KeyboardInterrupt):
        save({"version": 2, "w": np.zeros(4)}, path)
    assert os.listdir(tmp_path) == ["ck.npz"]  # no temporary file left behind
    assert_same(load(path), {"version": 1, "w": np.ones(4)})


# -- damaged and foreign files ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "good.npz"
    save({"weight": np.random.default_rng(0).normal(size=(50, 8)), "step": 3, "names": ["a", "b"]}, path)
    return path.read_bytes()


@given(data=st.data())
def test_truncated_files_raise_checkpoint_error(data, good_bytes, tmp_path_factory):
    cut = data.draw(st.integers(0, len(good_bytes) - 1))
    path = tmp_path_factory.mktemp("t") / "cut.npz"
    path.write_bytes(good_bytes[:cut])
    with pytest.raises(CheckpointError, match="cut.npz"):
        load(path)


def test_corrupted_array_data_raises_checkpoint_error(good_bytes, tmp_path):
    zf = zipfile.ZipFile(io.BytesIO(good_bytes))
    info = max(zf.infolist(), key=lambda i: i.file_size)  # the weight array
    pos = info.header_offset + 30 + len(info.filename.encode()) + 200  # well inside its data
    damaged = bytearray(good_bytes)
    damaged[pos] ^= 0x5A
    path = tmp_path / "bad.npz"
    path.write_bytes(bytes(damaged))
    with pytest.raises(CheckpointError, match=r"bad\.npz.*corrupted"):
        load(path)


@given(data=st.data())
def test_any_flipped_byte_is_either_detected_or_harmless(data, good_bytes, tmp_path_factory):
    pos = data.draw(st.integers(0, len(good_bytes) - 1))
    damaged = bytearray(good_bytes)
    damaged[pos] ^= data.draw(st.integers(1, 255))
    path = tmp_path_factory.mktemp("f") / "flip.npz"
    path.write_bytes(bytes(damaged))
    try:
        out = load(path)
    except CheckpointError:
        return
    # A flip in a field the reader ignores (e.g. a timestamp) changes nothing that is loaded.
    path.write_bytes(good_bytes)
    assert_same(out, load(path))


def test_pickled_objects_are_rejected_without_being_unpickled(tmp_path):
    class Boom:
        def __reduce__(self):
            return (os.system, ("echo never-run > " + str(tmp_path / "ran"),))

    pk = tmp_path / "evil.pt"
    pk.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError, match="pickled"):
        load(pk)
    assert not (tmp_path / "ran").exists()

    tp = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, tp)
    with pytest.raises(CheckpointError, match="pickled"):
        load(tp)

    obj = tmp_path / "object.npz"
    np.savez(obj, __manifest__=np.array("{}"), a0=np.array([Boom()], dtype=object))
    with pytest.raises(CheckpointError, match="pickled"):
        load(obj)
    assert not (tmp_path / "ran").exists()


def test_empty_and_foreign_files_raise_clear_errors(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load(tmp_path / "empty.npz")
    np.savez(tmp_path / "plain.npz", x=np.ones(2))
    with pytest.raises(CheckpointError, match="no minigrad manifest"):
        load(tmp_path / "plain.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="not an .npz"):
        load(tmp_path / "text.npz")
    assert issubclass(CheckpointError, ValueError)


# -- exact resumption ------------------------------------------------------------------------------
class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(12, 4)
        self.sparse_emb = nn.Embedding(12, 4, sparse=True)
        self.lin = nn.Linear(4, 2)

    def forward(self, idx):
        return self.lin(self.emb(idx) + self.sparse_emb(idx))


def _build(seed):
    minigrad.manual_seed(seed)
    model = _Model()
    dense = [p for n, p in model.named_parameters() if not n.startswith("sparse_emb")]
    opts = [optim.AdamW(dense, lr=0.05, amsgrad=True), optim.SGD(model.sparse_emb.parameters(), lr=0.1, momentum=0.9)]
    scheds = [optim.lr_scheduler.CosineAnnealingLR(opts[0], T_max=5), optim.lr_scheduler.MultiStepLR(opts[1], [3, 6, 6])]
    return model, opts, scheds


def _train(model, opts, scheds, steps, start):
    for step in range(start, start + steps):
        rng = np.random.default_rng(step)
        idx = minigrad.tensor(rng.integers(0, 12, size=(6,)))
        target = minigrad.tensor(rng.normal(size=(6, 2)).astype(np.float32))
        for o in opts:
            o.zero_grad()
        ((model(idx) - target) ** 2).mean().backward()
        clip_grad_norm_(model.parameters(), 1.0)
        for o in opts:
            o.step()
        for s in scheds:
            s.step()


def test_stopped_saved_loaded_and_resumed_run_equals_an_uninterrupted_one(tmp_path):
    ref = _build(0)
    _train(*ref, steps=16, start=0)

    first = _build(0)
    _train(*first, steps=7, start=0)
    model, opts, scheds = first
    save({"model": model.state_dict(), "optim": [o.state_dict() for o in opts],
          "sched": [s.state_dict() for s in scheds], "step": 7}, tmp_path / "ck.npz")

    ck = load(tmp_path / "ck.npz")
    model2, opts2, scheds2 = _build(123)  # different init: everything must come from the file
    model2.load_state_dict(ck["model"])
    for o, sd in zip(opts2, ck["optim"]):
        o.load_state_dict(sd)
    for s, sd in zip(scheds2, ck["sched"]):
        s.load_state_dict(sd)
    assert isinstance(opts2[1].state[model2.sparse_emb.weight]["momentum_buffer"], SparseTensor)
    _train(model2, opts2, scheds2, steps=9, start=ck["step"])

    for (name, a), (_, b) in zip(ref[0].state_dict().items(), model2.state_dict().items()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=name)
    for o_ref, o_new in zip(ref[1], opts2):
        assert_same(_plain(o_ref.state_dict()), _plain(o_new.state_dict()))
    assert [s.get_last_lr() for s in ref[2]] == [s.get_last_lr() for s in scheds2]


def _plain(sd):
    """A state dict with its buffers coalesced, for comparing sparse state by value."""
    def conv(v):
        if isinstance(v, SparseTensor):
            return minigrad.tensor(v.dense_array())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return conv(sd)


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(momentum=0.9)), ("Adam", dict(amsgrad=True)), ("AdamW", {}), ("Adagrad", {}),
    ("RMSprop", dict(centered=True, momentum=0.5)), ("SparseAdam", {}),
])
def test_optimizer_state_dicts_survive_save_and_load(name, kwargs, tmp_path):
    p = Parameter(np.random.default_rng(0).normal(size=(6, 3)))
    opt = getattr(optim, name)([p], **kwargs)
    for k in range(3):
        if name == "SparseAdam":
            p.grad = SparseTensor(np.array([k, 4, k]), np.ones((3, 3)), (6, 3))
        else:
            p.grad = minigrad.tensor(np.full((6, 3), 0.5 + k))
        opt.step()
    sd = opt.state_dict()
    save(sd, tmp_path / "o.npz")
    back = load(tmp_path / "o.npz")
    assert_same(sd, back)
    assert list(back["state"]) == [0]


# -- PyTorch interchange -----------------------------------------------------------------------------
def test_models_move_to_torch_and_back():
    minigrad.manual_seed(0)
    lin = nn.Linear(3, 2)
    tlin = torch.nn.Linear(3, 2)
    tlin.load_state_dict(to_torch_state_dict(lin.state_dict()))
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(lin(minigrad.tensor(x)).detach().numpy(), tlin(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)

    temb = torch.nn.Embedding(5, 2)
    emb = nn.Embedding(5, 2)
    sd = from_torch_state_dict(temb.state_dict())
    assert isinstance(sd["weight"], minigrad.Tensor) and isinstance(sd, OrderedDict)
    emb.load_state_dict(sd)
    np.testing.assert_array_equal(emb.weight.detach().numpy(), temb.weight.detach().numpy())
    # Copies, not views: changing one side leaves the other alone.
    with torch.no_grad():
        temb.weight.zero_()
    assert np.any(emb.weight.detach().numpy() != 0)


# -- the target file: stale temporaries, permissions, symlinks ---------------------------------------
def _temp_files(directory):
    return sorted(n for n in os.listdir(directory) if n.endswith(".tmp"))


def test_a_save_killed_mid_write_leaves_a_temp_file_the_next_save_removes(tmp_path):
    path = tmp_path / "ck.npz"
    save({"w": np.ones(3)}, path)
    # A child process starts overwriting the checkpoint and is killed (-9: no cleanup runs).
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, numpy as np\n"
        "from minigrad import serialization\n"
        "def stalled(fileobj, arrays):\n"
        "    fileobj.write(b'PK half'); fileobj.flush(); print('writing', flush=True); time.sleep(60)\n"
        "serialization._write_npz = stalled\n"
        f"serialization.save({{'w': np.zeros(3)}}, {str(path)!r})\n"
    )], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert child.stdout.readline().strip() == "writing"
        live = _temp_files(tmp_path)
        assert len(live) == 1
        save({"w": np.full(3, 2.0)}, path)              # the writer is alive: its file stays
        assert _temp_files(tmp_path) == live
    finally:
        child.kill()
        child.wait()
    assert_same(load(path), {"w": np.full(3, 2.0)})
    save({"w": np.full(3, 3.0)}, path)                  # now it is stale: removed
    assert _temp_files(tmp_path) == []
    assert_same(load(path), {"w": np.full(3, 3.0)})


def test_only_the_same_targets_unlocked_temp_files_are_removed(tmp_path):
    stale = tmp_path / ".ck.npz.0123456789abcdef.tmp"       # a dead writer's (no lock)
    other = tmp_path / ".other.npz.0123456789abcdef.tmp"    # another target's
    mine = tmp_path / ".ck.npz.notes.tmp.txt"              # not a temporary name at all
    for p in (stale, other, mine):
        p.write_bytes(b"PK partial")
    save({"a": 1}, tmp_path / "ck.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(["ck.npz", other.name, mine.name])


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_new_files_follow_the_umask_and_overwrites_keep_their_mode(tmp_path):
    old_umask = os.umask(0o027)
    try:
        save({"a": 1}, tmp_path / "new.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o640   # as open() would make it
        for mode in (0o600, 0o644, 0o664):
            os.chmod(tmp_path / "new.npz", mode)
            save({"a": 2}, tmp_path / "new.npz")
            assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == mode
    finally:
        os.umask(old_umask)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_saving_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "ck.npz"
    save({"v": 1}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    save({"v": 2}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load(target) == {"v": 2}
    dangling = tmp_path / "next.npz"
    dangling.symlink_to(tmp_path / "real" / "new.npz")   # as open(), creates the target
    save({"v": 3}, dangling)
    assert dangling.is_symlink() and load(tmp_path / "real" / "new.npz") == {"v": 3}


# -- forged and malformed files: always a CheckpointError ---------------------------------------------
def _archive(tmp_path, manifest, compression=zipfile.ZIP_STORED, **arrays):
    """An .npz with the given manifest (a dict, or raw JSON text) and arrays."""
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, arr in {"__manifest__": np.array(text), **arrays}.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
            zf.writestr(name + ".npy", buf.getvalue())
    return path


def _manifest(root):
    return {"format": "minigrad-checkpoint", "version": 1, "root": root}


def test_a_member_that_would_inflate_far_past_the_files_size_is_refused(tmp_path):
    # 64 MiB of zeros deflate to ~64 KiB: loading it would be a 1000-fold blow-up.
    path = _archive(tmp_path, _manifest({"t": "ndarray", "k": "a0"}), zipfile.ZIP_DEFLATED,
                    a0=np.zeros(8 << 20))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(CheckpointError, match="declares .* more than 16 times"):
        load(path)


def test_an_array_header_declaring_more_than_its_bytes_is_refused_before_allocating(tmp_path):
    path = _archive(tmp_path, _manifest({"t": "ndarray", "k": "a0"}))
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    member.write(np.zeros(4).tobytes())                   # 8 GB declared, 32 bytes held, CRC right
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("a0.npy", member.getvalue())
    with pytest.raises(CheckpointError, match=r"declares a float64 array of shape \(1000000000,\)"):
        load(path)


@pytest.mark.parametrize("manifest", [
    _manifest([{"t": "none"}]),                                        # a node that is not an object
    _manifest({"t": "list", "items": {"t": "none"}}),                  # items not a list of nodes
    _manifest({"t": "dict", "items": [[{"t": "list", "items": []}, {"t": "none"}]]}),   # unhashable key
    _manifest({"t": "dict", "items": [{"t": "none"}]}),                # item not a pair
    _manifest({"t": "int", "v": "12"}),                                # wrong scalar types
    _manifest({"t": "bool", "v": 1}),
    _manifest({"t": "tensor", "k": "a0", "requires_grad": True}),      # an int tensor requiring grad
    _manifest({"t": "parameter", "k": "a0", "requires_grad": "yes"}),
    _manifest({"t": "tensor", "k": ["a0"], "requires_grad": False}),
    _manifest({"t": "ndarray", "k": "a0", "meta": {"dtype": "not a dtype", "shape": [3]}}),
    _manifest({"t": "ndarray", "k": "a0", "meta": [1, 2]}),
    _manifest({"t": "npscalar", "k": "a0"}),                           # a 1-d array as a scalar
    _manifest({"t": "sparse", "idx": "a0", "val": "a1", "shape": [2, 2], "coalesced": False}),  # index 2 >= 2
    _manifest({"t": "sparse", "idx": "a1", "val": "a1", "shape": [3, 2], "coalesced": False}),  # float indices
    _manifest({"t": "sparse", "idx": "a0", "val": "a1", "shape": [3], "coalesced": False}),
    _manifest({"t": "sparse", "idx": "a0", "val": "a1", "shape": [3, 2], "coalesced": 0}),
    _manifest({"t": "unknown"}),
    {"format": "minigrad-checkpoint", "version": 1},                   # no root
    "[" * 100_000 + "]" * 100_000,                                      # nesting too deep to parse
    '{"format": "minigrad-checkpoint", "version": 1, "root": {"t": "int", "v": ' + "9" * 5000 + "}}",
    '{"format": "minigrad-checkpoint", "version": 1, "root": ' + '{"t": "list", "items": [' * 5000
    + "]}" * 5000 + "}",                                                 # deep, valid JSON
])
def test_every_malformed_manifest_is_a_checkpoint_error(tmp_path, manifest):
    path = _archive(tmp_path, manifest, a0=np.array([0, 2, 1]), a1=np.ones((3, 2)))
    with pytest.raises(CheckpointError, match="forged.npz"):
        load(path)


@pytest.mark.parametrize("array", [
    np.array(["text"]), np.zeros(2, dtype=[("a", "<f4")]), np.array([1], dtype="datetime64[s]"),
])
def test_arrays_of_a_dtype_save_never_writes_are_refused(tmp_path, array):
    path = _archive(tmp_path, _manifest({"t": "ndarray", "k": "a0"}), a0=array)
    with pytest.raises(CheckpointError, match="dtype"):
        load(path)


# -- objects: tied parameters, whole modules -----------------------------------------------------------
class _Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5, 3)
        self.out = nn.Linear(3, 5, bias=False)
        self.out.weight = self.emb.weight          # weight tying, as in language models


def test_tied_parameters_come_back_tied_as_with_torch_load(tmp_path):
    model = _Tied()
    save(model.state_dict(keep_vars=True), tmp_path / "vars.npz")
    loaded = load(tmp_path / "vars.npz")
    assert loaded["emb.weight"] is loaded["out.weight"]
    assert isinstance(loaded["emb.weight"], Parameter)

    save(model.state_dict(), tmp_path / "sd.npz")
    loaded = load(tmp_path / "sd.npz")
    assert np.shares_memory(loaded["emb.weight"].numpy(), loaded["out.weight"].numpy())
    # PyTorch keeps the storage shared the same way.
    tmodel = torch.nn.Module()
    tmodel.emb = torch.nn.Embedding(5, 3)
    tmodel.out = torch.nn.Linear(3, 5, bias=False)
    tmodel.out.weight = tmodel.emb.weight
    torch.save(tmodel.state_dict(), tmp_path / "torch.pt")
    tloaded = torch.load(tmp_path / "torch.pt")
    assert tloaded["emb.weight"].data_ptr() == tloaded["out.weight"].data_ptr()
    # Stored once, not twice.
    assert len(zipfile.ZipFile(tmp_path / "sd.npz").namelist()) == 2   # the manifest + one array


def test_saving_a_whole_model_says_to_save_its_state_dict(tmp_path):
    model = _Tied()
    with pytest.raises(TypeError, match=r"cannot save obj of type .*_Tied: .* minigrad.save\(model.state_dict\(\), f\); "
                                        r"to restore it, build a new _Tied and call model.load_state_dict\(minigrad.load\(f\)\)"):
        save(model, tmp_path / "m.npz")
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"minigrad.save\(optimizer.state_dict\(\), f\)"):
        save({"opt": opt}, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_load_takes_paths_pathlib_and_file_objects_with_torchs_keywords(tmp_path):
    path = tmp_path / "ck.npz"
    save({"w": np.arange(3.0)}, path)
    for f in (str(path), path, open(path, "rb")):
        for kwargs in ({}, {"map_location": "cpu"}, {"map_location": torch.device("cpu")},
                       {"map_location": {"cuda:0": "cpu"}}, {"map_location": lambda storage, loc: storage},
                       {"weights_only": True}, {"weights_only": False}, {"map_location": "cpu:0", "weights_only": True}):
            if hasattr(f, "seek"):
                f.seek(0)
            assert_same(load(f, **kwargs), {"w": np.arange(3.0)})
    with pytest.raises(RuntimeError, match="CPU only"):
        load(path, map_location="cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        load(path, map_location=torch.device("meta"))


def test_numpy_float64_scalars_stay_numpy_scalars():
    buf = io.BytesIO()
    save({"x": np.float64(1.25), "y": [np.float64(-0.5)]}, buf)
    buf.seek(0)
    assert_same(load(buf), {"x": np.float64(1.25), "y": [np.float64(-0.5)]})
