"""The pytest plugin of ``grade``: runs each unit's tests with its variants switched on.

``grade`` builds one tree from the solution in which each graded function can
run one of several bodies (see :mod:`minigrad.course._transplant`); a *unit* is
one task of one submission, or one mutant, with the variant each function runs.
This plugin runs every unit's tests in turn in one process, a test once per unit
that selects it, and writes one JSON line per outcome, tagged with the unit.

It is loaded by file, not through the ``minigrad`` package, so that grading
works even when a student's edit keeps ``minigrad`` from importing; transplanted
code imports it by name to ask which variant is active. Standard library and
pytest only.
"""
import json
import os
import re
import sys

import pytest

_PATH = os.environ.get("MINIGRAD_COURSE_REPORT")
_UNITS = os.environ.get("MINIGRAD_COURSE_UNITS")
_ACTIVE_ENV = "MINIGRAD_COURSE_ACTIVE"
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

# {function number: variant number} of the running unit; inherited by subprocesses through the environment.
_active = {int(k): v for k, v in json.loads(os.environ.get(_ACTIVE_ENV) or "{}").items()}
_UNIT_ENV = "MINIGRAD_COURSE_UNIT"
_unit = os.environ.get(_UNIT_ENV)  # in a subprocess of a test (an example run), the test's unit
_reached = set()
_pyx_modules = []  # compiled modules whose switched functions are set through _minigrad_course_select


def variant(key):
    """The variant function number ``key`` runs now (0: the solution's body)."""
    return _active.get(key, 0)


def _activate(unit):
    global _unit
    _unit = unit["id"]
    _active.clear()
    _active.update({int(k): v for k, v in unit["variants"].items()})
    os.environ[_ACTIVE_ENV] = json.dumps(_active)
    os.environ[_UNIT_ENV] = _unit
    for module, keys in _pyx_modules:
        for k in keys:
            module._minigrad_course_select(k, _active.get(k, 0))


def reached(task_id):
    """Record that the running unit's tests called a function of task ``task_id`` (the course map).

    Called by bodies that ``minigrad.course._map`` instruments; one record per
    unit and task, in each process.
    """
    if (_unit, task_id) not in _reached:
        _reached.add((_unit, task_id))
        _write({"unit": _unit, "nodeid": "", "when": "reached", "outcome": "reached", "output": task_id})


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
        if report.skipped and isinstance(report.longrepr, tuple):
            text = str(report.longrepr[2])  # the reason alone, e.g. "needs Task 2.2 (...) first"
        elif report.outcome != "passed":
            text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
            if len(text) > _LIMIT:
                text = text[: _LIMIT // 4] + "\n...\n" + text[-3 * _LIMIT // 4:]
        outcome = report.outcome
        if report.when != "call" and outcome == "failed":
            outcome = "error"
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.outcome == "skipped" else "xpassed"
        _write({"unit": _unit, "nodeid": report.nodeid, "when": report.when, "outcome": outcome, "output": text})
        if outcome in ("failed", "error") and _stop_rx is not None and _stop_rx.search(report.nodeid + "\n" + text):
            _settled.add(_unit)


def pytest_collectreport(report):
    if report.failed:
        _write({"unit": None, "nodeid": report.nodeid, "when": "collect", "outcome": "error",
                "output": str(report.longrepr)[-_LIMIT:]})


_schedule = []
_settled = set()  # units whose remaining tests need not run (a failure already said what was wanted)
_stop_rx = None


def _load_units():
    if not _UNITS:
        return None
    with open(_UNITS, encoding="utf-8") as f:
        return json.load(f)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Order the run: each unit's tests, the units one after the other."""
    spec = _load_units()
    if spec is None:
        return
    for unit in spec["units"]:
        rx = [re.compile(p, re.S) for p in unit["select"]]
        for item in items:
            if any(r.match(item.nodeid) for r in rx):
                _schedule.append((unit, item))
    keep = []
    for _, item in _schedule:
        if item not in keep:
            keep.append(item)
    items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    spec = _load_units()
    if spec is None:
        return None
    if session.config.option.collectonly:
        return True
    for name, keys in spec.get("pyx", {}).items():
        __import__(name)
        _pyx_modules.append((sys.modules[name], keys))
    global _stop_rx
    for i, (unit, item) in enumerate(_schedule):
        if unit["id"] in _settled:
            continue
        nextitem = _schedule[i + 1][1] if i + 1 < len(_schedule) else None
        if _unit != unit["id"]:
            _activate(unit)
            _stop_rx = re.compile(unit["stop"], re.I) if unit.get("stop") else None
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        if session.shouldfail or session.shouldstop:
            break
    return True

