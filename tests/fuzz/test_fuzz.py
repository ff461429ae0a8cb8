"""The fuzz harness's fixed budget, run with every test run (a few seconds per family).

The same cases as a long campaign (``python tests/fuzz/run.py --minutes 30``),
on fixed seeds, in this process. Kernels and checkpoints must give no finding
at all. Random programs must never crash; the wrong values and error
categories they find against PyTorch are listed as warnings (``-ra`` shows
them), each with the seed that reproduces it
(``python tests/fuzz/run.py --family programs --seed N``).
"""
import warnings

import pytest

import fuzzlib

pytestmark = pytest.mark.fuzz

BUDGET = {"kernels": 600, "checkpoints": 200, "programs": 300}


def _findings(family):
    return [f for seed in range(BUDGET[family]) for f in fuzzlib.run_case(family, seed)]


def _report(findings):
    return "\n".join(str(f)[:800] for f in findings[:20])


def test_hostile_kernel_inputs_give_torchs_answer_or_its_error_on_both_backends():
    findings = _findings("kernels")
    assert findings == [], _report(findings)


def test_a_call_wrong_in_two_ways_expects_the_error_the_kernel_door_checks_first():
    # Seed 4003905 draws gather(out=) whose out overlaps the weight and whose index is out of
    # range. The door reports the overlap before it reads an index; the reference once expected
    # the index error and reported a wrong error class.
    case_findings = fuzzlib.run_case("kernels", 4003905)
    assert case_findings == [], _report(case_findings)


def test_damaged_checkpoints_load_exactly_or_raise_checkpoint_error():
    findings = _findings("checkpoints")
    assert findings == [], _report(findings)


def test_random_programs_never_crash_and_their_differences_from_torch_are_reported():
    findings = _findings("programs")
    fatal = [f for f in findings if f.kind in ("crash", "harness-error")]
    assert fatal == [], _report(fatal)
    for f in findings:
        warnings.warn(str(f)[:400], UserWarning, stacklevel=1)


def test_the_harness_reports_what_it_is_built_to_find(monkeypatch):
    # A kernel that drops duplicate indices (`out[idx] += src`), as a careless
    # implementation would, must be caught as a wrong value or backend mismatch.
    from minigrad import kernels

    def lossy(out, idx, src, num_threads, strategy):
        bad = kernels._numpy_first_out_of_range(idx, out.shape[0])
        if bad < 0:
            out[idx] += src
        return bad

    monkeypatch.setitem(kernels._KERNELS, "numpy", (kernels._numpy_gather_kernel, lossy, kernels._numpy_empty_rows))
    kinds = {f.kind for seed in range(300) for f in fuzzlib.run_case("kernels", seed)}
    assert kinds & {"backend-mismatch", "wrong-value"}
