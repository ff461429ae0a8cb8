"""A pytest plugin used by ``grade``: one JSON line per test outcome.

It is loaded by file, not through the ``minigrad`` package, so that grading
works even when a student's edit keeps ``minigrad`` from importing. Standard
library only.
"""
import json
import os

_PATH = os.environ.get("MINIGRAD_COURSE_REPORT")
_LIMIT = 4000

#: The Hypothesis profile for grading (tests/conftest.py loads the profile named
#: by MINIGRAD_HYPOTHESIS_PROFILE, which ``grade`` sets to this name):
#: derandomized and without an example database, so a submission gets the same
#: score on every run; no shrinking, so a wrong answer fails in a fraction of the
#: time (students see shrunk examples when they run pytest themselves).
PROFILE = "minigrad-course-grading"

try:
    from hypothesis import HealthCheck, Phase, settings
except ImportError:  # pragma: no cover - the test extra has Hypothesis
    pass
else:
    settings.register_profile(
        PROFILE,
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


def _write(record):
    if _PATH:
        with open(_PATH, "a", encoding="utf-8") as f:  # appended at once: a crash keeps earlier lines
            f.write(json.dumps(record) + "\n")


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        # Passing setup/teardown phases say nothing; a failing one is the test's result.
        if report.when == "teardown" and report.outcome == "skipped":
            return
        text = ""
        if report.outcome != "passed":
            text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
            if len(text) > _LIMIT:
                text = text[: _LIMIT // 4] + "\n...\n" + text[-3 * _LIMIT // 4:]
        outcome = report.outcome
        if report.when != "call" and outcome == "failed":
            outcome = "error"
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.outcome == "skipped" else "xpassed"
        _write({"nodeid": report.nodeid, "when": report.when, "outcome": outcome, "output": text})


def pytest_collectreport(report):
    if report.failed:
        _write({"nodeid": report.nodeid, "when": "collect", "outcome": "error",
                "output": str(report.longrepr)[-_LIMIT:]})
