"""Optimizers on row-sparse gradients (``Embedding(sparse=True)``) against PyTorch 2.13.

Gradients are built with repeated row indices, so coalescing (summing the
duplicates before a non-linear update) is exercised on every step; the same
gradient is given to PyTorch as ``torch.sparse_coo_tensor``.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
import minigrad.optim as optim
from minigrad import kernels, nn
from minigrad.nn.parameter import Parameter
from minigrad.sparse import SparseTensor

STEPS = 20
# PyTorch's sparse kernels are slow per call; fewer examples keep the file quick.
FEW = settings(max_examples=20)
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")
# float64 trajectories: the update rules are identical, but 20+ steps of a chaotic
# iteration amplify last-bit differences in operation order (seen up to 2e-9 relative).
RTOL, ATOL = 1e-7, 1e-10
V, D = 9, 3


def _grads(seed, steps=STEPS):
    """A sequence of (indices, values): 1..12 lookups each, many repeats, sometimes none."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        n = int(rng.integers(0, 12))
        out.append((rng.integers(0, V, size=n), rng.normal(size=(n, D))))
    return out


def _run_both(name, kwargs, seed, grads=None, torch_kwargs=None):
    rng = np.random.default_rng(seed + 1)
    w0 = rng.normal(size=(V, D))
    mp = Parameter(w0.copy())
    tp = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    mopt = getattr(optim, name)([mp], **kwargs)
    topt = getattr(torch.optim, name)([tp], **kwargs, **(torch_kwargs or {}))
    for step, (idx, val) in enumerate(grads if grads is not None else _grads(seed)):
        mp.grad = SparseTensor(idx.copy(), val.copy(), (V, D))
        tp.grad = torch.sparse_coo_tensor(torch.from_numpy(idx.copy())[None], torch.from_numpy(val.copy()), (V, D))
        mopt.step()
        topt.step()
        np.testing.assert_allclose(mp.detach().numpy(), tp.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=f"step {step}")
    return mp, mopt, tp, topt


def _dense(x):
    return x.to_dense().numpy() if getattr(x, "is_sparse", False) else np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)


@FEW
@given(lr=st.floats(1e-3, 0.5), momentum=st.sampled_from([0.0]) | st.floats(0.05, 0.95),
       dampening=st.floats(0.0, 0.9), nesterov=st.booleans(), maximize=st.booleans(),
       seed=st.integers(0, 2**16))
def test_sparse_sgd_trajectory_matches_torch(lr, momentum, dampening, nesterov, maximize, seed):
    if nesterov:
        momentum, dampening = max(momentum, 0.1), 0.0
    mp, mopt, tp, topt = _run_both("SGD", dict(lr=lr, momentum=momentum, dampening=dampening,
                                               nesterov=nesterov, maximize=maximize), seed,
                                   torch_kwargs={"foreach": False})
    if momentum:
        mbuf, tbuf = mopt.state[mp]["momentum_buffer"], topt.state[tp]["momentum_buffer"]
        assert isinstance(mbuf, SparseTensor) and tbuf.is_sparse  # the buffer stays sparse, as in torch
        np.testing.assert_allclose(mbuf.dense_array(), tbuf.to_dense().numpy(), rtol=RTOL, atol=ATOL)


@FEW
@given(lr=st.floats(1e-3, 0.5), lr_decay=st.sampled_from([0.0]) | st.floats(1e-3, 0.5),
       initial_accumulator_value=st.sampled_from([0.0]) | st.floats(0.01, 2.0),
       eps=st.sampled_from([1e-10, 1e-3]), maximize=st.booleans(), seed=st.integers(0, 2**16))
def test_sparse_adagrad_trajectory_matches_torch(lr, lr_decay, initial_accumulator_value, eps, maximize, seed):
    mp, mopt, tp, topt = _run_both("Adagrad", dict(lr=lr, lr_decay=lr_decay, eps=eps, maximize=maximize,
                                                   initial_accumulator_value=initial_accumulator_value),
                                   seed, torch_kwargs={"foreach": False})
    np.testing.assert_allclose(mopt.state[mp]["sum"].detach().numpy(), topt.state[tp]["sum"].numpy(), rtol=RTOL, atol=ATOL)


@FEW
@given(lr=st.floats(1e-3, 0.5), betas=st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.9999)),
       eps=st.sampled_from([1e-8, 1e-3]), maximize=st.booleans(), seed=st.integers(0, 2**16))
def test_sparse_adam_trajectory_matches_torch(lr, betas, eps, maximize, seed):
    mp, mopt, tp, topt = _run_both("SparseAdam", dict(lr=lr, betas=betas, eps=eps, maximize=maximize), seed)
    ms, ts = mopt.state[mp], topt.state[tp]
    assert ms["step"] == ts["step"]
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_allclose(ms[key].detach().numpy(), ts[key].numpy(), rtol=RTOL, atol=ATOL)


def test_sparse_adam_moves_only_the_touched_rows():
    w0 = np.arange(V * D, dtype=np.float64).reshape(V, D)
    p = Parameter(w0.copy())
    opt = optim.SparseAdam([p], lr=0.1)
    p.grad = SparseTensor(np.array([2, 2, 5]), np.ones((3, D)), (V, D))
    opt.step()
    p.grad = SparseTensor(np.array([5]), np.ones((1, D)), (V, D))
    opt.step()
    untouched = [r for r in range(V) if r not in (2, 5)]
    np.testing.assert_array_equal(p.detach().numpy()[untouched], w0[untouched])
    # Row 2's moments are frozen at step 2 (lazy update): not decayed as dense Adam would.
    np.testing.assert_array_equal(opt.state[p]["exp_avg"].detach().numpy()[2], (2.0 - 0.0) * (1 - 0.9))


def test_updates_use_the_index_add_kernel_not_a_dense_temporary(monkeypatch):
    """The sparse path never allocates a (V, D) array: every write goes through index-add."""
    big_v = 50_000
    calls = []
    real = kernels.index_add

    def spy(out, idx, src):
        calls.append(np.asarray(src).shape)
        return real(out, idx, src)

    monkeypatch.setattr(kernels, "index_add", spy)
    real_zeros, real_full = np.zeros, np.full

    def guard(factory):
        def wrapped(shape, *a, **k):
            if np.prod(shape) >= big_v * D and not guard.allow:
                raise AssertionError(f"dense temporary of shape {shape}")
            return factory(shape, *a, **k)
        return wrapped

    guard.allow = True
    monkeypatch.setattr(np, "zeros", guard(real_zeros))
    monkeypatch.setattr(np, "full", guard(real_full))
    for name, kw in (("SGD", dict(lr=0.1, momentum=0.9)), ("Adagrad", {}), ("SparseAdam", {})):
        p = Parameter(np.ones((big_v, D)))
        guard.allow = True  # state creation (moment tables) is dense by design, like PyTorch's
        opt = getattr(optim, name)([p], **kw)
        p.grad = SparseTensor(np.array([7, 7, 11]), np.ones((3, D)), (big_v, D))
        opt.step()  # first step allocates state lazily
        guard.allow = False
        calls.clear()
        p.grad = SparseTensor(np.array([3, 7, 3]), np.ones((3, D)), (big_v, D))
        opt.step()
        assert calls and all(shape[0] <= 6 for shape in calls), (name, calls)
        guard.allow = True


def test_embedding_sparse_training_matches_torch():
    """End to end: nn.Embedding(sparse=True) + SGD(momentum) and SparseAdam vs torch."""
    for name, kw in (("SGD", dict(lr=0.1, momentum=0.9)), ("SparseAdam", dict(lr=0.05)),
                     ("Adagrad", dict(lr=0.1))):
        emb = nn.Embedding(V, D, sparse=True)
        emb.weight.data = emb.weight.data.double()
        temb = torch.nn.Embedding(V, D, sparse=True).double()
        with torch.no_grad():
            temb.weight.copy_(torch.from_numpy(emb.weight.detach().numpy().copy()))
        mopt = getattr(optim, name)(emb.parameters(), **kw)
        topt = getattr(torch.optim, name)(temb.parameters(), **kw)
        rng = np.random.default_rng(5)
        for _ in range(STEPS):
            idx = rng.integers(0, V, size=(4, 3))
            target = rng.normal(size=(4, 3, D))
            mopt.zero_grad()
            ((emb(minigrad.tensor(idx)) - minigrad.tensor(target)) ** 2).sum().backward()
            mopt.step()
            topt.zero_grad()
            ((temb(torch.from_numpy(idx)) - torch.from_numpy(target)) ** 2).sum().backward()
            topt.step()
        np.testing.assert_allclose(emb.weight.detach().numpy(), temb.weight.detach().numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name, message", [
    ("Adam", "Adam does not support sparse gradients, please consider SparseAdam instead"),
    ("AdamW", "Adam does not support sparse gradients, please consider SparseAdam instead"),
    ("RMSprop", "RMSprop does not support sparse gradients"),
])
def test_dense_only_optimizers_reject_sparse_gradients_like_torch(name, message):
    tp = torch.nn.Parameter(torch.ones(V, D, dtype=torch.float64))
    tp.grad = torch.sparse_coo_tensor(torch.tensor([[1]]), torch.ones(1, D, dtype=torch.float64), (V, D))
    with pytest.raises(RuntimeError) as expected:
        getattr(torch.optim, name)([tp]).step()
    p = Parameter(np.ones((V, D)))
    p.grad = SparseTensor(np.array([1]), np.ones((1, D)), (V, D))
    with pytest.raises(RuntimeError) as got:
        getattr(optim, name)([p]).step()
    assert str(got.value) == str(expected.value) == message
    np.testing.assert_array_equal(p.detach().numpy(), np.ones((V, D)))


def test_a_new_optimizer_is_dense_only_by_default_and_rejects_a_sparse_gradient_before_any_update():
    class Plain(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1))

        def _update(self, p, grad, group):
            p.data.sub_(group["lr"] * grad)

    dense, sparse = Parameter(np.ones((V, D))), Parameter(np.ones((V, D)))
    dense.grad = minigrad.tensor(np.ones((V, D)))
    sparse.grad = SparseTensor(np.array([1]), np.ones((1, D)), (V, D))
    version = dense._version
    with pytest.raises(RuntimeError, match="^Plain does not support sparse gradients$"):
        Plain([dense, sparse]).step()
    np.testing.assert_array_equal(dense.detach().numpy(), np.ones((V, D)))  # the whole group is checked first
    assert dense._version == version


def test_sparse_adam_rejects_dense_gradients():
    p = Parameter(np.ones((V, D)))
    p.grad = minigrad.tensor(np.ones((V, D)))
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, please consider Adam instead"):
        optim.SparseAdam([p]).step()


@pytest.mark.parametrize("name", ["SGD", "Adagrad"])
def test_weight_decay_with_sparse_gradients_is_an_error(name):
    p = Parameter(np.ones((V, D)))
    p.grad = SparseTensor(np.array([1]), np.ones((1, D)), (V, D))
    with pytest.raises(RuntimeError, match="weight_decay option is not compatible with sparse gradients"):
        getattr(optim, name)([p], lr=0.1, weight_decay=0.1).step()


def test_sparse_adam_counts_a_step_with_no_rows_but_does_not_move():
    p = Parameter(np.ones((V, D)))
    opt = optim.SparseAdam([p])
    p.grad = SparseTensor(np.zeros(0, dtype=np.int64), np.zeros((0, D)), (V, D))
    version = p._version
    opt.step()
    assert opt.state[p]["step"] == 1
    np.testing.assert_array_equal(p.detach().numpy(), np.ones((V, D)))
    assert p._version == version  # nothing changed, so a graph that saved p stays valid (as PyTorch)
