"""The task list: reading ``tasks.toml`` and matching tests to tasks.

This module is imported by ``tests/conftest.py`` while pytest collects, so it
depends on nothing but the standard library (and ``tomli`` on Python 3.10).
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import re

try:
    import tomllib as _toml
except ModuleNotFoundError:  # Python 3.10
    try:
        import tomli as _toml
    except ModuleNotFoundError:  # pragma: no cover - depends on the environment
        _toml = None

#: The task list shipped with minigrad.
DEFAULT_TASKS_FILE = pathlib.Path(__file__).with_name("tasks.toml")

#: Environment variable naming another task file (used by ``grade`` and the pytest hook).
TASKS_ENV = "MINIGRAD_COURSE_TASKS"


@dataclasses.dataclass(frozen=True)
class Task:
    """One assignment: functions the student writes, and the tests that grade them.

    Attributes
    ----------
    set_name : str
        Name of the task set the task belongs to (``"starter"``).
    id : str
        ``"A.T"``: assignment A, task T. Shown in the stub's error message.
    title : str
        One line, used in the stub (``Task 1.1: <title>``) and the score table.
    targets : tuple of str
        ``"path/inside/repo.py::Qual.name"`` of each function or method whose body
        is replaced by a stub. ``.pyx`` files are supported for plain ``def``/``cdef``
        functions.
    tests : tuple of str
        Grading tests as pytest node-id patterns; ``*`` matches any run of
        characters and is the only special character (``[`` is literal, so
        parametrised ids can be written as they are). A pattern without ``::``
        names whole files.
    hints : tuple of str
        Shown in the generated ``ASSIGNMENT.md``.
    points : float
        Maximum score; partial credit is proportional to the passing tests.
    stub : str
        ``"raise"`` (default): the body becomes ``raise NotImplementedError(...)``.
        ``"pass"``: the body becomes ``pass``, for Cython functions that run
        without the GIL and cannot raise.
    hidden_tests : tuple of str
        More grading tests, as patterns like ``tests``, held back from students:
        their files are left out of the student copy, and ``grade`` runs them
        from the instructor's tree. They live in files of their own.
    """

    set_name: str
    id: str
    title: str
    targets: tuple
    tests: tuple
    hints: tuple = ()
    points: float = 1.0
    stub: str = "raise"
    hidden_tests: tuple = ()

    @property
    def assignment(self) -> int:
        """The number of the assignment the task belongs to: A of its id ``"A.T"``."""
        return int(self.id.split(".", 1)[0])

    @property
    def marker(self) -> str:
        """The pytest marker of this task's grading tests, e.g. ``task_starter_1_1``."""
        return marker_name(self.set_name, self.id)

    def message(self) -> str:
        """The stub's message: ``Task 1.1: <title>``."""
        return f"Task {self.id}: {self.title}"

    def selects(self, nodeid: str) -> bool:
        """Whether the test ``nodeid`` is one of this task's grading tests (visible or hidden)."""
        return any(_pattern(p).match(nodeid) for p in self.tests + self.hidden_tests)

    def test_files(self) -> tuple:
        """The file part of every test pattern, hidden ones included (may contain ``*``)."""
        return tuple(dict.fromkeys(p.split("::", 1)[0] for p in self.tests + self.hidden_tests))


@dataclasses.dataclass(frozen=True)
class Assignment:
    """A numbered group of tasks handed out together, with its handout.

    Declared once per task file (``[[assignments]]``) and shared by every set:
    a task ``"A.T"`` belongs to assignment A whatever its set, so the Cython
    tasks of the ``kernels`` set can sit in the Embedding assignment.

    Attributes
    ----------
    number : int
        A, the first part of its tasks' ids.
    title : str
    hours : float
        Estimated working time of the whole assignment, for a student who did the ones before.
    objectives : tuple of str
        What the student can do afterwards.
    checks : tuple of str
        What the grading tests check, in words (not the tests' code).
    hints : tuple of str
        Advice for the whole assignment; each task has its own hints too.
    """

    number: int
    title: str
    hours: float
    objectives: tuple
    checks: tuple
    hints: tuple = ()


@dataclasses.dataclass(frozen=True)
class TaskSet:
    """A named, ordered list of tasks handed out together."""

    name: str
    description: str
    tasks: tuple
    kernels: str = "numpy"
    build_extension: bool = False
    exclude: tuple = ()
    assignments: tuple = ()  # the Assignment of each of its tasks, in number order

    def assignment(self, number: int) -> Assignment:
        for a in self.assignments:
            if a.number == number:
                return a
        raise KeyError(f"task set {self.name!r} has no assignment {number}")

    def tasks_of(self, number: int) -> tuple:
        """The set's tasks of assignment ``number``, in file order."""
        return tuple(t for t in self.tasks if t.assignment == number)

    @property
    def marker(self) -> str:
        """Marker carried by every grading test of the set, e.g. ``task_starter``."""
        return marker_name(self.name)

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(f"task set {self.name!r} has no task {task_id!r}; it has {[t.id for t in self.tasks]}")


def marker_name(set_name: str, task_id: str | None = None) -> str:
    """``task_<set>`` or ``task_<set>_<N>_<M>`` (dots and dashes become underscores)."""
    parts = ["task", set_name] + ([task_id] if task_id is not None else [])
    return re.sub(r"[^0-9A-Za-z_]", "_", "_".join(parts))


_PATTERNS: dict = {}


def _pattern(text: str) -> re.Pattern:
    """Compile a node-id pattern: ``*`` is a wildcard, everything else literal."""
    rx = _PATTERNS.get(text)
    if rx is None:
        if "::" not in text:
            text = text.rstrip("/") + "*"  # a file (or directory): all of its tests
        rx = re.compile("".join(".*" if c == "*" else re.escape(c) for c in text) + r"\Z", re.S)
        _PATTERNS[text] = rx
    return rx


def tasks_file() -> pathlib.Path:
    """The task file in use: ``$MINIGRAD_COURSE_TASKS`` or the one shipped with minigrad."""
    env = os.environ.get(TASKS_ENV, "").strip()
    return pathlib.Path(env) if env else DEFAULT_TASKS_FILE


def _tuple(value, where: str) -> tuple:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a string or a list of strings, got {value!r}")
    return tuple(value)


def load(path=None) -> dict:
    """Read a task file and return ``{set name: TaskSet}`` in file order.

    Parameters
    ----------
    path : str or path-like, optional
        Default: :func:`tasks_file`.

    Raises
    ------
    ValueError
        A malformed file: unknown keys, a task without targets or tests,
        duplicate ids, a bad ``stub`` value.
    """
    if _toml is None:  # pragma: no cover - Python 3.10 without tomli
        raise RuntimeError("reading the course task list needs Python >= 3.11 or the 'tomli' package")
    path = pathlib.Path(path) if path is not None else tasks_file()
    with open(path, "rb") as f:
        data = _toml.load(f)
    sets = data.get("sets")
    if not isinstance(sets, dict) or not sets:
        raise ValueError(f"{path}: expected one or more [sets.<name>] tables")
    unknown = set(data) - {"sets", "assignments"}
    if unknown:
        raise ValueError(f"{path}: unknown top-level keys {sorted(unknown)}")
    assignments = _assignments(data.get("assignments", []), path)
    out = {}
    set_keys = {"description", "kernels", "build_extension", "exclude", "tasks"}
    task_keys = {"id", "title", "targets", "tests", "hints", "points", "stub", "hidden_tests"}
    for name, spec in sets.items():
        unknown = set(spec) - set_keys
        if unknown:
            raise ValueError(f"{path}: set {name!r}: unknown keys {sorted(unknown)}")
        tasks, seen = [], set()
        for k, t in enumerate(spec.get("tasks", [])):
            where = f"{path}: set {name!r}, task #{k + 1}"
            unknown = set(t) - task_keys
            if unknown:
                raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
            for key in ("id", "title", "targets", "tests"):
                if not t.get(key):
                    raise ValueError(f"{where}: missing {key!r}")
            if t["id"] in seen:
                raise ValueError(f"{where}: duplicate id {t['id']!r}")
            if assignments and (not re.fullmatch(r"\d+\.\d+", str(t["id"]))
                                or int(str(t["id"]).split(".")[0]) not in assignments):
                raise ValueError(f"{where}: id {t['id']!r} must be 'A.T' with A one of the assignments "
                                 f"{sorted(assignments)}")
            seen.add(t["id"])
            stub = t.get("stub", "raise")
            if stub not in ("raise", "pass"):
                raise ValueError(f"{where}: stub must be 'raise' or 'pass', got {stub!r}")
            targets = _tuple(t["targets"], f"{where}: targets")
            for target in targets:
                if "::" not in target:
                    raise ValueError(f"{where}: target {target!r} must look like 'path/file.py::Qual.name'")
            tasks.append(Task(
                set_name=name, id=str(t["id"]), title=t["title"], targets=targets,
                tests=_tuple(t["tests"], f"{where}: tests"), hints=_tuple(t.get("hints", []), f"{where}: hints"),
                points=float(t.get("points", 1.0)), stub=stub,
                hidden_tests=_tuple(t.get("hidden_tests", []), f"{where}: hidden_tests"),
            ))
        if not tasks:
            raise ValueError(f"{path}: set {name!r} has no tasks")
        kernels = spec.get("kernels", "numpy")
        if kernels not in ("numpy", "cython"):
            raise ValueError(f"{path}: set {name!r}: kernels must be 'numpy' or 'cython', got {kernels!r}")
        out[name] = TaskSet(
            name=name, description=spec.get("description", ""), tasks=tuple(tasks), kernels=kernels,
            build_extension=bool(spec.get("build_extension", False)),
            exclude=_tuple(spec.get("exclude", []), f"{path}: set {name!r}: exclude"),
            assignments=tuple(assignments[n] for n in sorted({t.assignment for t in tasks} & set(assignments))),
        )
    return out


def _assignments(entries, path) -> dict:
    """``{number: Assignment}`` from the ``[[assignments]]`` tables."""
    if not isinstance(entries, list):
        raise ValueError(f"{path}: 'assignments' must be an array of tables ([[assignments]])")
    out = {}
    keys = {"number", "title", "hours", "objectives", "checks", "hints"}
    for k, a in enumerate(entries):
        where = f"{path}: assignment #{k + 1}"
        unknown = set(a) - keys
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("number", "title", "hours", "objectives", "checks"):
            if not a.get(key):
                raise ValueError(f"{where}: missing {key!r}")
        if not isinstance(a["number"], int) or a["number"] in out:
            raise ValueError(f"{where}: number must be an integer used once, got {a['number']!r}")
        if not isinstance(a["hours"], (int, float)) or a["hours"] <= 0:
            raise ValueError(f"{where}: hours must be a positive number, got {a['hours']!r}")
        out[a["number"]] = Assignment(
            number=a["number"], title=a["title"], hours=float(a["hours"]),
            objectives=_tuple(a["objectives"], f"{where}: objectives"), checks=_tuple(a["checks"], f"{where}: checks"),
            hints=_tuple(a.get("hints", []), f"{where}: hints"),
        )
    return out


def mark_grading_tests(config, items, path=None) -> None:
    """Add each task's marker (and its set's) to the tests that grade it.

    Called from ``tests/conftest.py`` during collection, so that
    ``pytest -m task_starter_1_1`` selects the grading tests of task 1.1 and
    no test file needs a decorator.
    """
    sets = load(path)
    import pytest

    for ts in sets.values():
        config.addinivalue_line("markers", f"{ts.marker}: grading tests of course task set {ts.name!r}")
        for task in ts.tasks:
            config.addinivalue_line("markers", f"{task.marker}: grading tests of task {task.message()}")
    for item in items:
        for ts in sets.values():
            hit = False
            for task in ts.tasks:
                if task.selects(item.nodeid):
                    item.add_marker(getattr(pytest.mark, task.marker))
                    hit = True
            if hit:
                item.add_marker(getattr(pytest.mark, ts.marker))


_STUB_MESSAGE = re.compile(r"Task (\d+(?:\.\d+)*): (.+)", re.S)


def _stub_messages(exc, seen=None):
    """Every ``Task N.M: title`` NotImplementedError in ``exc``, its causes and its groups."""
    seen = set() if seen is None else seen
    if exc is None or id(exc) in seen:
        return []
    seen.add(id(exc))
    found = []
    if isinstance(exc, NotImplementedError) and exc.args and isinstance(exc.args[0], str):
        m = _STUB_MESSAGE.fullmatch(exc.args[0])
        if m:
            found.append((m.group(1), m.group(2)))
    for inner in getattr(exc, "exceptions", ()) or ():
        found += _stub_messages(inner, seen)
    return found + _stub_messages(exc.__cause__, seen) + _stub_messages(exc.__context__, seen)


def missing_prerequisite(item, excinfo):
    """``"needs Task X.Y (title) first"`` when a test of one task stopped at another task's stub.

    ``excinfo`` is the test's exception. A test reaching the stub of its own task
    (or a test of no task) gets ``None``: its failure is the student's to read.
    Called from ``tests/conftest.py``, which reports the test as skipped with
    this one line instead of a traceback from another file.
    """
    if excinfo is None:
        return None
    own = {m.name for m in item.iter_markers() if m.name.startswith("task_")}
    if not own:
        return None
    for task_id, title in _stub_messages(excinfo.value):
        if not any(name.endswith("_" + re.sub(r"[^0-9A-Za-z_]", "_", task_id)) for name in own):
            return f"needs Task {task_id} ({title}) first"
    return None
