"""Shared test configuration.

Hypothesis profiles: ``dev`` (default, quick) and ``ci`` (derandomized, more
examples, so CI is thorough and never flaky). ``MINIGRAD_HYPOTHESIS_PROFILE``
selects one; ``.ci/run`` sets it to ``ci``.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("MINIGRAD_HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _grad_mode_is_restored():
    """Fail any test that leaves grad mode switched off (or on) behind it."""
    import minigrad

    before = minigrad.is_grad_enabled()
    yield
    after = minigrad.is_grad_enabled()
    minigrad.set_grad_enabled(before)
    assert after == before, "the test left grad mode changed"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    """Mark the grading tests of each course task (``pytest -m task_starter_1_1``).

    The task list (``minigrad/course/tasks.toml``) says which tests grade which
    task, so no test file carries course markup.
    """
    try:
        from minigrad.course._spec import mark_grading_tests
    except ImportError:  # a copy without the course kit: nothing to mark
        return
    mark_grading_tests(config, items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In a student copy: a test that stops at the stub of another task is skipped with one line,
    ``needs Task 2.2 (run_backward: ...) first``, instead of failing with that file's traceback."""
    outcome = yield
    if call.excinfo is None or call.when != "call":
        return
    try:
        from minigrad.course._spec import missing_prerequisite
    except ImportError:  # a copy without the course kit
        return
    reason = missing_prerequisite(item, call.excinfo)
    if reason is not None:
        report = outcome.get_result()
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, reason)
        _PREREQUISITES.setdefault(reason, 0)
        _PREREQUISITES[reason] += 1


_PREREQUISITES: dict = {}


def pytest_terminal_summary(terminalreporter):
    for reason, n in _PREREQUISITES.items():
        terminalreporter.write_line(f"{reason} ({n} test{'s' if n != 1 else ''} skipped)")


def pytest_sessionfinish(session, exitstatus):
    """A run in which tests stopped at an unfinished task's stub has not shown the task works: it
    exits with status 1, so that an autograder reading the status (GitHub Classroom) gives no point."""
    if _PREREQUISITES and exitstatus == 0:
        session.exitstatus = 1
