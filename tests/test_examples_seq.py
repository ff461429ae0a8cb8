"""The sequence-model examples run in ``--quick`` mode and show what they claim.

Like ``test_examples.py`` (whose fixtures these reuse): each test calls the
example's ``main([...])`` in-process and checks its outcome, not only that it ran.
"""
from __future__ import annotations

import math

from test_examples import _assert_png, _examples_folder_is_not_written, _quiet_and_restore, _run  # noqa: F401
# (the two fixtures are autouse: imported, they apply here too)


def test_char_models_all_learn_and_report_one_row_each(tmp_path):
    out = _run("char_models", tmp_path)
    results = out["results"]
    assert list(results) == ["bigram", "MLP", "RNN", "GRU", "LSTM", "Transformer"]
    for name, r in results.items():
        # One epoch on 1,000 names already beats the uniform guess log 27.
        assert r["test_loss"] < math.log(27), name
        assert r["curve"][-1] == r["test_loss"] and r["params"] > 0 and r["seconds"] > 0
        assert len(r["samples"]) == 8 and r["embedding"].shape[0] == 27
    _assert_png(out["figure"], tmp_path)


def test_tiny_gpt_learns_beyond_its_first_evaluation_with_a_tied_head(tmp_path):
    out = _run("tiny_gpt", tmp_path)
    assert out["tied"]
    assert out["val_loss"] < out["first_val"]
    assert out["val_loss"] < math.log(72)  # below the uniform guess over the 72 characters
    assert out["tokens_per_s"] > 0
    assert out["sample"].startswith("And God said") and len(out["sample"]) > len("And God said")
    _assert_png(out["figure"], tmp_path)
