"""Checkpoints: pickle-free .npz save/load, atomic writes, clear errors, exact resumption."""
import io
import os
import pickle
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
        np.testing.assert_array_equal(a.data, b.data, err_msg=where)
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
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
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
    np.testing.assert_allclose(lin(minigrad.tensor(x)).data, tlin(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)

    temb = torch.nn.Embedding(5, 2)
    emb = nn.Embedding(5, 2)
    sd = from_torch_state_dict(temb.state_dict())
    assert isinstance(sd["weight"], minigrad.Tensor) and isinstance(sd, OrderedDict)
    emb.load_state_dict(sd)
    np.testing.assert_array_equal(emb.weight.data, temb.weight.detach().numpy())
    # Copies, not views: changing one side leaves the other alone.
    with torch.no_grad():
        temb.weight.zero_()
    assert np.any(emb.weight.data != 0)
