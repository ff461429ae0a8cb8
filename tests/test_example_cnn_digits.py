"""``examples/cnn_digits.py`` in ``--quick`` mode measures the lesson it claims.

A convolution's advantage comes from the neighbourhoods of pixels: shuffling
the pixels (one fixed permutation) costs the CNN accuracy and leaves the MLP,
which shares nothing between positions, where it was. Needs the ``examples`` extra.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def cnn_digits(monkeypatch):
    monkeypatch.setenv("MINIGRAD_EXAMPLES_NO_PROGRESS", "1")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location("examples_cnn_digits", EXAMPLES / "cnn_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    common = sys.modules.get("_common")
    if common is not None and common._BLAS_LIMIT is not None:  # undo the examples' one-BLAS-thread limit
        common._BLAS_LIMIT.restore_original_limits()
        common._BLAS_LIMIT = None


def test_shuffling_pixels_costs_the_cnn_and_not_the_mlp_at_the_same_budget(cnn_digits, tmp_path):
    out = cnn_digits.main(["--quick", "--out", str(tmp_path)])
    acc = {name: np.mean(values) for name, values in out["accuracy"].items()}
    params = out["params"]
    assert abs(params["CNN"] - params["MLP"]) < 0.01 * params["MLP"]  # the same budget
    assert acc["CNN"] - acc["CNN, shuffled pixels"] > 0.02
    assert abs(acc["MLP"] - acc["MLP, shuffled pixels"]) < 0.02
    assert min(acc.values()) > 0.8  # every model learned (chance is 10%)
    assert out["filters"].shape == (16, 1, 3, 3)
    assert Path(out["figure"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
