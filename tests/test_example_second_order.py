"""``examples/second_order.py`` in ``--quick`` mode shows what it claims.

Newton's method (Hessian from ``functional.hessian``, or Hessian-vector products
only) reaches the tolerance in a handful of iterations where gradient descent
needs hundreds more, at scikit-learn's optimum; and the Hessian of an
Embedding + Linear model is exactly zero on the rows the batch never looks up,
and equal to PyTorch's on the same model, weights and batch. Needs the
``examples`` extra.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MINIGRAD_EXAMPLES_NO_PROGRESS", "1")
    mp.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location("examples_second_order", EXAMPLES / "second_order.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out_dir = tmp_path_factory.mktemp("second_order")
    try:
        yield module.main(["--quick", "--out", str(out_dir)]), out_dir
    finally:
        mp.undo()
        common = sys.modules.get("_common")
        if common is not None and common._BLAS_LIMIT is not None:  # undo the examples' one-BLAS-thread limit
            common._BLAS_LIMIT.restore_original_limits()
            common._BLAS_LIMIT = None


def test_newton_reaches_the_tolerance_in_far_fewer_iterations_than_gradient_descent(run):
    nt = run[0]["newton"]
    assert nt["newton_norms"][-1] <= 1e-6 and nt["newton_iterations"] <= 10
    assert nt["newton_cg_norms"][-1] <= 1e-6 and nt["newton_cg_iterations"] == nt["newton_iterations"]
    # The quick run stops gradient descent at 400 iterations, still short of the tolerance.
    assert not nt["gd_converged"] and nt["gd_iterations"] >= 40 * nt["newton_iterations"]
    assert nt["gd_norms"][-1] > 1e-6
    # Quadratic convergence: the last Newton step cuts the gradient norm by far more than 10×.
    assert nt["newton_norms"][-1] < 1e-2 * nt["newton_norms"][-2]
    assert nt["sklearn_vs_newton"] < 1e-4 and nt["cg_vs_newton"] < 1e-6


def test_embedding_hessian_is_exactly_zero_on_rows_the_batch_never_looks_up(run):
    eh = run[0]["embedding"]
    H, dim = eh["H"], eh["dim"]
    assert eh["unseen"].size > 0 and eh["seen"].size > 1
    assert set(eh["seen"]) == set(eh["idx"].ravel())
    for k in range(eh["vocab"]):
        rows = slice(k * dim, (k + 1) * dim)
        if k in set(eh["seen"]):
            assert np.abs(H[rows]).max() > 1e-4  # a looked-up row has curvature
        else:
            assert not H[rows].any() and not H[:, rows].any()  # exactly 0, not merely small
    assert eh["unseen_max"] == eh["unseen_cols_max"] == 0.0
    for a, b in eh["apart"]:  # looked-up rows that never share a bag do not interact
        assert not H[a * dim:(a + 1) * dim, b * dim:(b + 1) * dim].any()
    np.testing.assert_allclose(H, H.T, atol=1e-15)


def test_embedding_hessian_matches_torch_on_the_same_model_and_batch(run):
    eh = run[0]["embedding"]
    idx, target = torch.from_numpy(eh["idx"]), torch.from_numpy(eh["target"])

    def loss(E, W, b):
        return torch.nn.functional.cross_entropy(
            torch.nn.functional.linear(torch.nn.functional.embedding(idx, E).mean(dim=1), W, b), target)

    weights = tuple(torch.from_numpy(w) for w in eh["weights"])
    assert all(w.dtype == torch.float64 for w in weights)
    blocks = torch.autograd.functional.hessian(loss, weights)
    sizes = eh["sizes"]
    expected = np.block([[blocks[i][j].numpy().reshape(sizes[i], sizes[j]) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(eh["H"], expected, rtol=1e-10, atol=1e-14)


def test_both_figures_are_written_to_the_out_folder(run):
    figures, out_dir = run[0]["figures"], run[1]
    assert [Path(f).name for f in figures] == ["second_order_newton.png", "second_order_hessian.png"]
    for f in figures:
        assert Path(f).parent == out_dir and Path(f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
