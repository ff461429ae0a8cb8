"""Grade a directory: run each task's grading tests there and score them."""
from __future__ import annotations

import dataclasses
import glob
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from minigrad.course import _spec
from minigrad.course._build import MANIFEST

_PLUGIN = "_minigrad_course_plugin"
_OUTPUT_LIMIT = 8000


@dataclasses.dataclass
class TaskResult:
    """Score of one task: ``passed`` of ``total`` grading tests, scaled to ``max_score``."""

    task: "_spec.Task"
    passed: int
    total: int
    score: float
    max_score: float
    output: str
    failed: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class GradeReport:
    """Everything ``grade`` found; :meth:`to_json` is the autograder file."""

    set_name: str
    directory: str
    results: list
    pytest_returncode: int
    log: str

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)

    def to_json(self) -> dict:
        """Gradescope's ``results.json`` layout: one entry of ``tests`` per task."""
        return {
            "score": round(self.score, 4),
            "max_score": self.max_score,
            "output": f"minigrad course, task set {self.set_name!r}: {self.score:g} / {self.max_score:g} points",
            "visibility": "visible",
            "stdout_visibility": "visible",
            "tests": [
                {
                    "name": f"Task {r.task.id}: {r.task.title}",
                    "number": r.task.id,
                    "score": round(r.score, 4),
                    "max_score": r.max_score,
                    "output": r.output,
                    "tags": [r.task.set_name, r.task.marker],
                    "visibility": "visible",
                }
                for r in self.results
            ],
        }

    def table(self) -> str:
        """The score table printed by ``python -m minigrad.course grade``."""
        width = max([len(r.task.title) for r in self.results] + [5])
        rows = [f"{'task':<5} {'title':<{width}} {'tests':>9} {'points':>13}"]
        for r in self.results:
            tests = f"{r.passed}/{r.total}"
            rows.append(f"{r.task.id:<5} {r.task.title:<{width}} {tests:>9} {r.score:>6.2f}/{r.max_score:<6g}")
        rows.append(f"{'total':<5} {'':<{width}} {'':>9} {self.score:>6.2f}/{self.max_score:<6g}")
        return "\n".join(rows)


def _read_manifest(directory: pathlib.Path):
    path = directory / MANIFEST
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return None


def _status(records) -> dict:
    """nodeid → 'passed' | 'failed' | 'skipped' from the plugin's records (any failing phase wins)."""
    out = {}
    for rec in records:
        nodeid, outcome = rec["nodeid"], rec["outcome"]
        if rec["when"] == "collect":
            continue
        if outcome in ("failed", "error", "xfailed"):
            out[nodeid] = "failed"
        elif out.get(nodeid) != "failed":
            if outcome in ("passed", "xpassed"):
                out[nodeid] = "passed"
            elif outcome == "skipped":
                out[nodeid] = "skipped"
    return out


def _env(directory: pathlib.Path, taskset, tasks_path: pathlib.Path, report: pathlib.Path, plugin_dir: str) -> dict:
    env = dict(os.environ)
    old = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join([str(directory), plugin_dir] + ([old] if old else []))
    env["MINIGRAD_KERNELS"] = taskset.kernels
    env["MINIGRAD_HYPOTHESIS_PROFILE"] = "minigrad-course-grading"  # registered by the plugin
    env[_spec.TASKS_ENV] = str(tasks_path)
    env["MINIGRAD_COURSE_REPORT"] = str(report)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def grade(directory, set_name=None, *, only=None, tasks_path=None, json_path=None, build_ext=None,
          exitfirst: bool = False, timeout=None, extra_args=()) -> GradeReport:
    """Run the grading tests of each task in ``directory`` and score them.

    Parameters
    ----------
    directory : path-like
        A student copy made by ``build`` (its manifest names the set and the
        tasks), or any minigrad checkout, e.g. the solution.
    set_name : str, optional
        The task set; default: the manifest's, else the first set of the task file.
    only : list of str, optional
        Task ids to grade; default: the manifest's tasks, else every task of the set.
    tasks_path : path-like, optional
        The task file (default: the grader's own, not the copy's, so a student
        cannot change which tests grade them).
    json_path : path-like, optional
        Where to write the autograder JSON (Gradescope's ``results.json`` layout).
    build_ext : bool, optional
        Compile the Cython kernels in ``directory`` first (default: when the set
        says ``build_extension = true``).
    exitfirst : bool
        Stop at the first failing test (``pytest -x``): quick, but later tasks
        then count the tests that did not run as not passed.
    timeout : float, optional
        Seconds before the test run is stopped.
    extra_args : sequence of str
        More pytest arguments.

    Returns
    -------
    GradeReport
        A task scores ``points × passed / total``: skipped, failing and
        erroring grading tests all count as not passed; a task none of whose
        grading tests was collected scores 0.

    Notes
    -----
    Tests run with ``python -m pytest`` in ``directory``, with ``PYTHONPATH``
    starting at ``directory`` (no installation needed), ``MINIGRAD_KERNELS``
    set by the task set, and a derandomized Hypothesis profile without an
    example database or shrinking (the same score on every run, quickly).
    """
    directory = pathlib.Path(directory).resolve()
    if not (directory / "minigrad").is_dir():
        raise FileNotFoundError(f"{directory} holds no minigrad package")
    tasks_path = pathlib.Path(tasks_path).resolve() if tasks_path is not None else _spec.tasks_file().resolve()
    sets = _spec.load(tasks_path)
    manifest = _read_manifest(directory)
    if set_name is None:
        set_name = manifest["set"] if manifest else next(iter(sets))
    if set_name not in sets:
        raise KeyError(f"unknown task set {set_name!r}; choose one of {', '.join(sets)}")
    taskset = sets[set_name]
    if only is None and manifest and manifest.get("set") == set_name:
        only = manifest.get("tasks")
    tasks = [taskset.task(t) for t in only] if only else list(taskset.tasks)

    log = []
    with tempfile.TemporaryDirectory(prefix="minigrad-grade-") as tmp:
        shutil.copyfile(pathlib.Path(__file__).with_name("_plugin.py"), pathlib.Path(tmp) / f"{_PLUGIN}.py")
        report = pathlib.Path(tmp) / "report.jsonl"
        env = _env(directory, taskset, tasks_path, report, tmp)
        build_failed = None
        if (build_ext if build_ext is not None else taskset.build_extension) and importlib.util.find_spec("Cython") is None:
            build_failed = ("task set {!r} compiles the Cython kernels, but Cython is not installed where "
                            "grading runs: pip install 'Cython>=3' (and have a C compiler)").format(taskset.name)
        elif build_ext if build_ext is not None else taskset.build_extension:
            r = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=directory, env=env,
                               capture_output=True, text=True, timeout=timeout)
            log.append(r.stdout + r.stderr)
            if r.returncode != 0:
                build_failed = "building the Cython kernels failed:\n" + (r.stdout + r.stderr)[-_OUTPUT_LIMIT:]
        files = []
        for t in tasks:
            for pattern in t.test_files():
                for f in sorted(glob.glob(pattern, root_dir=directory)):
                    if f not in files:
                        files.append(f)
        returncode = 0
        records = []
        if build_failed is None and files:
            expr = " or ".join(t.marker for t in tasks)
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", _PLUGIN, "-m", expr,
                   "--tb=short", "-o", "addopts=", "--continue-on-collection-errors", *(["-x"] if exitfirst else []), *extra_args, *files]
            try:
                r = subprocess.run(cmd, cwd=directory, env=env, capture_output=True, text=True, timeout=timeout)
                returncode = r.returncode
                log.append(r.stdout + r.stderr)
            except subprocess.TimeoutExpired as exc:
                returncode = -1
                log.append(f"grading stopped after {timeout} s\n" + str(exc.stdout or ""))
            if report.exists():
                records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines() if line]
    status = _status(records)
    outputs = {}
    for rec in records:
        if rec["output"]:
            outputs.setdefault(rec["nodeid"], rec["output"])
    collect_errors = [rec for rec in records if rec["when"] == "collect"]
    log_text = "\n".join(log)

    results = []
    for t in tasks:
        mine = [n for n in status if t.selects(n)]
        passed = sum(status[n] == "passed" for n in mine)
        failed = [n for n in mine if status[n] != "passed"]
        total = len(mine)
        if build_failed is not None:
            text = build_failed
        elif total == 0:
            text = "No grading test ran for this task (patterns: " + ", ".join(t.tests) + ")."
            if collect_errors:
                text += "\nCollection errors:\n" + "\n".join(c["output"] for c in collect_errors)
            elif returncode not in (0, 1, 5):
                text += "\npytest output:\n" + log_text[-_OUTPUT_LIMIT // 2:]
        else:
            text = f"{passed}/{total} grading tests passed."
            for n in failed:
                detail = outputs.get(n, status[n])
                text += f"\n\n{status[n].upper()} {n}\n{detail}"
                if len(text) > _OUTPUT_LIMIT:
                    text = text[:_OUTPUT_LIMIT] + "\n... (output truncated)"
                    break
        score = t.points * passed / total if total else 0.0
        results.append(TaskResult(t, passed, total, score, t.points, text, failed))
    result = GradeReport(taskset.name, str(directory), results, returncode, log_text)
    if json_path is not None:
        pathlib.Path(json_path).write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return result
