"""Grade a submission: each task's bodies transplanted into the solution, its tests run there."""
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
import time

from minigrad.course import _spec, _transplant
from minigrad.course._build import MANIFEST
from minigrad.course._stub import StubError

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


@dataclasses.dataclass
class Unit:
    """What one slot of a grading run checks: ``task``'s tests, with ``bodies`` in its targets.

    ``bodies`` maps each target (``path::Qual.name``) to the body text it runs;
    targets left out run the solution's body. ``error`` (a submission whose file
    is missing or does not parse) means the unit is not run and scores 0.
    """

    task: "_spec.Task"
    bodies: dict
    error: str = None
    stop: str = None  # a regex: once a failing test's id or message matches it, the unit's other tests are skipped

    def key(self) -> tuple:
        return (self.task.set_name, self.task.id, tuple(sorted(self.bodies.items())), self.stop)


def _env(tree: pathlib.Path, taskset, tasks_path: pathlib.Path, report: pathlib.Path, plugin_dir: str,
         units_file=None) -> dict:
    env = dict(os.environ)
    old = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join([str(tree), plugin_dir] + ([old] if old else []))
    env["MINIGRAD_KERNELS"] = taskset.kernels
    env["MINIGRAD_HYPOTHESIS_PROFILE"] = "minigrad-course-grading"  # registered by the plugin
    env[_spec.TASKS_ENV] = str(tasks_path)
    env["MINIGRAD_COURSE_REPORT"] = str(report)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("MINIGRAD_COURSE_ACTIVE", None)
    if units_file is not None:
        env["MINIGRAD_COURSE_UNITS"] = str(units_file)
    return env


def _is_pyx(path: str) -> bool:
    return path.endswith((".pyx", ".pxd", ".pxi"))


def submission_units(directory, tasks) -> list:
    """One :class:`Unit` per task: the bodies of its targets as written in ``directory``."""
    directory = pathlib.Path(directory)
    texts, units = {}, []
    for task in tasks:
        bodies, error = {}, None
        for target in task.targets:
            path, qualname = target.split("::", 1)
            if path not in texts:
                file = directory / path
                try:
                    texts[path] = file.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    texts[path] = exc
            text = texts[path]
            if isinstance(text, Exception):
                error = f"cannot read {path} in the submission: {text}"
                break
            try:
                bodies[target] = _transplant.body_text(text, qualname, pyx=_is_pyx(path), where=path)
            except SyntaxError as exc:
                error = f"{path} is not valid Python (line {exc.lineno}: {exc.msg}); no test of this task ran."
                break
            except StubError as exc:
                error = f"{exc}; no test of this task ran."
                break
        units.append(Unit(task, bodies if error is None else {}, error))
    return units


def _test_files(tasks, root) -> list:
    files = []
    for t in tasks:
        for pattern in t.test_files():
            for f in sorted(glob.glob(pattern, root_dir=root)):
                if f not in files:
                    files.append(f)
    return files


def _copy_tree(root: pathlib.Path, dest: pathlib.Path) -> None:
    from minigrad.course._build import project_files

    for name in project_files(root):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)


def default_workers() -> int:
    """Grading processes run side by side: one per core the process may use, at most 2.

    ``MINIGRAD_COURSE_WORKERS`` overrides it.
    """
    env = os.environ.get("MINIGRAD_COURSE_WORKERS", "").strip()
    if env:
        return max(1, int(env))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(2, cores))


def run_units(taskset, units, *, root=None, tasks_path=None, exitfirst=False, timeout=None, build_ext=None,
              extra_args=(), workers=None) -> dict:
    """Run every unit's tests in one grading tree built from the solution ``root``.

    Returns ``{unit key: (status, outputs)}`` (``status``: nodeid → passed,
    failed or skipped; ``outputs``: nodeid → failure text), plus the entries
    ``"log"``, ``"returncode"``, ``"build_failed"``, ``"collect_errors"`` and
    ``"reached"`` (unit key → the task ids its tests reported reaching, see
    :mod:`minigrad.course._map`).
    Units with the same task and the same bodies run once.
    """
    from minigrad.course._build import repo_root

    root = pathlib.Path(root) if root is not None else repo_root()
    tasks_path = pathlib.Path(tasks_path).resolve() if tasks_path is not None else _spec.tasks_file().resolve()
    runnable = {}
    for u in units:
        if u.error is None:
            runnable.setdefault(u.key(), u)
    # Number the distinct bodies of each target: 0 is the solution's own.
    own, numbers = {}, {}
    for u in runnable.values():
        for target, body in u.bodies.items():
            if target not in own:
                path, qualname = target.split("::", 1)
                own[target] = _transplant.body_text((root / path).read_text(encoding="utf-8"), qualname,
                                                    pyx=_is_pyx(path), where=path)
            if body != own[target]:
                numbers.setdefault(target, {}).setdefault(body, len(numbers.get(target, {})) + 1)
    keys = {target: k for k, target in enumerate(sorted(numbers))}
    spec_units = []
    for n, (key, u) in enumerate(runnable.items()):
        variants = {keys[t]: numbers[t][b] for t, b in u.bodies.items() if t in numbers and b in numbers[t]}
        spec_units.append({"id": str(n), "select": [_spec._pattern(p).pattern for p in u.task.tests + u.task.hidden_tests],
                           "variants": variants, "stop": u.stop})
    unit_ids = {key: str(n) for n, key in enumerate(runnable)}

    log, records, returncode, build_failed = [], [], 0, None
    with tempfile.TemporaryDirectory(prefix="minigrad-grade-") as tmp:
        tmp = pathlib.Path(tmp)
        tree, plugin_dir = tmp / "tree", tmp / "plugin"
        plugin_dir.mkdir()
        shutil.copyfile(pathlib.Path(__file__).with_name("_plugin.py"), plugin_dir / f"{_PLUGIN}.py")
        _copy_tree(root, tree)
        by_file = {}
        for target in numbers:
            path, qualname = target.split("::", 1)
            by_file.setdefault(path, {})[qualname] = {v: b for b, v in numbers[target].items()}
        pyx_keys = {}
        for path, bodies in by_file.items():
            text = (root / path).read_text(encoding="utf-8")
            file_keys = {q: keys[f"{path}::{q}"] for q in bodies}
            new = _transplant.switch_source(text, bodies, keys=file_keys, pyx=_is_pyx(path), where=path)
            (tree / path).write_text(new, encoding="utf-8")
            if _is_pyx(path):
                module = path[: -len(pathlib.Path(path).suffix)].replace("/", ".")
                pyx_keys[module] = sorted(file_keys.values())
        env = _env(tree, taskset, tasks_path, tmp / "build.jsonl", str(plugin_dir))
        want_ext = build_ext if build_ext is not None else taskset.build_extension
        if want_ext and importlib.util.find_spec("Cython") is None:
            build_failed = ("task set {!r} compiles the Cython kernels, but Cython is not installed where "
                            "grading runs: pip install 'Cython>=3' (and have a C compiler)").format(taskset.name)
        elif want_ext:
            r = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tree, env=env,
                               capture_output=True, text=True, timeout=timeout)
            log.append(r.stdout + r.stderr)
            if r.returncode != 0:
                build_failed = "building the Cython kernels failed:\n" + (r.stdout + r.stderr)[-_OUTPUT_LIMIT:]
        # The units are dealt to `workers` pytest processes that run side by side in the one tree.
        tasks_of = [u.task for u in runnable.values()]
        n = max(1, min(workers if workers is not None else default_workers(), len(spec_units)))
        runs = []
        for k in range(n):
            shard = spec_units[k::n]
            files = _test_files(tasks_of[k::n], tree)
            if build_failed is not None or not files or not shard:
                continue
            units_file, report, output = tmp / f"units-{k}.json", tmp / f"report-{k}.jsonl", tmp / f"output-{k}.txt"
            units_file.write_text(json.dumps({"units": shard, "pyx": pyx_keys}), encoding="utf-8")
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", _PLUGIN,
                   "--tb=short", "-o", "addopts=", "--continue-on-collection-errors",
                   *(["-x"] if exitfirst else []), *extra_args, *files]
            with open(output, "w", encoding="utf-8") as f:  # a file, not a pipe: no process waits on a reader
                proc = subprocess.Popen(cmd, cwd=tree, env=_env(tree, taskset, tasks_path, report, str(plugin_dir),
                                                                units_file),
                                        stdout=f, stderr=subprocess.STDOUT, text=True)
            runs.append((proc, report, output))
        deadline = None if timeout is None else time.monotonic() + timeout
        codes = []
        for proc, report, output in runs:
            try:
                codes.append(proc.wait(None if deadline is None else max(0.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                codes.append(-1)
                log.append(f"grading stopped after {timeout} s")
            log.append(output.read_text(encoding="utf-8", errors="replace"))
            if report.exists():
                records += [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines() if line]
        returncode = -1 if -1 in codes else max(codes, default=0)
    out = {"log": "\n".join(log), "returncode": returncode, "build_failed": build_failed,
           "collect_errors": [rec for rec in records if rec["when"] == "collect"], "reached": {}}
    for key, uid in unit_ids.items():
        out["reached"][key] = {rec["output"] for rec in records if rec["when"] == "reached" and rec["unit"] == uid}
        mine = [rec for rec in records if rec.get("unit") == uid and rec["when"] != "reached"]
        outputs = {}
        for rec in mine:
            if rec["output"]:
                outputs.setdefault(rec["nodeid"], rec["output"])
        out[key] = (_status(mine), outputs)
    return out


def _task_result(unit: Unit, run: dict) -> TaskResult:
    t = unit.task
    if unit.error is not None:
        return TaskResult(t, 0, 0, 0.0, t.points, unit.error, [])
    status, outputs = run[unit.key()]
    mine = [n for n in status if t.selects(n)]
    passed = sum(status[n] == "passed" for n in mine)
    failed = [n for n in mine if status[n] != "passed"]
    total = len(mine)
    if run["build_failed"] is not None:
        text = run["build_failed"]
    elif total == 0:
        text = "No grading test ran for this task (patterns: " + ", ".join(t.tests + t.hidden_tests) + ")."
        if run["collect_errors"]:
            text += "\nCollection errors:\n" + "\n".join(c["output"] for c in run["collect_errors"])
        elif run["returncode"] not in (0, 1, 5):
            text += "\npytest output:\n" + run["log"][-_OUTPUT_LIMIT // 2:]
    else:
        text = f"{passed}/{total} grading tests passed."
        for n in failed:
            detail = outputs.get(n, status[n])
            text += f"\n\n{status[n].upper()} {n}\n{detail}"
            if len(text) > _OUTPUT_LIMIT:
                text = text[:_OUTPUT_LIMIT] + "\n... (output truncated)"
                break
    score = t.points * passed / total if total else 0.0
    return TaskResult(t, passed, total, score, t.points, text, failed)


def _choose(directory: pathlib.Path, sets: dict, set_name, only):
    manifest = _read_manifest(directory)
    if set_name is None:
        set_name = manifest["set"] if manifest else next(iter(sets))
    if set_name not in sets:
        raise KeyError(f"unknown task set {set_name!r}; choose one of {', '.join(sets)}")
    taskset = sets[set_name]
    if only is None and manifest and manifest.get("set") == set_name:
        only = manifest.get("tasks")
    return taskset, ([taskset.task(t) for t in only] if only else list(taskset.tasks))


def run_with_submissions(taskset, sets: dict, units, submissions=(), **run_options):
    """``units`` and every task of each of ``submissions`` in one :func:`run_units` run.

    Returns ``(run, reports)``: the run (for ``units``' results) and one
    :class:`GradeReport` per submission. ``run_options`` go to :func:`run_units`.
    """
    sub_units = [submission_units(d, _choose(pathlib.Path(d), sets, taskset.name, None)[1]) for d in submissions]
    run = run_units(taskset, list(units) + [u for us in sub_units for u in us], **run_options)
    reports = [GradeReport(taskset.name, str(d), [_task_result(u, run) for u in us], run["returncode"], run["log"])
               for d, us in zip(submissions, sub_units)]
    return run, reports


def grade_many(directories, set_name=None, *, only=None, tasks_path=None, root=None, build_ext=None,
               exitfirst: bool = False, timeout=None, extra_args=(), workers=None) -> list:
    """Grade several submissions of one task set in one run; a :class:`GradeReport` each.

    Each task of each submission is graded on its own: its targets' bodies are
    taken from the submission, everything else is the solution's (see
    :func:`grade`). A task with the same bodies in two submissions runs once.
    """
    directories = [pathlib.Path(d).resolve() for d in directories]
    tasks_path = pathlib.Path(tasks_path).resolve() if tasks_path is not None else _spec.tasks_file().resolve()
    sets = _spec.load(tasks_path)
    chosen = []
    for d in directories:
        if not d.is_dir():
            raise FileNotFoundError(f"{d} is not a directory")
        chosen.append(_choose(d, sets, set_name, only))
    taskset = chosen[0][0] if chosen else sets[set_name or next(iter(sets))]
    if any(ts.name != taskset.name for ts, _ in chosen):
        raise ValueError("grade_many grades submissions of one task set at a time")
    units = [submission_units(d, tasks) for d, (_, tasks) in zip(directories, chosen)]
    run = run_units(taskset, [u for us in units for u in us], root=root, tasks_path=tasks_path,
                    exitfirst=exitfirst, timeout=timeout, build_ext=build_ext, extra_args=extra_args,
                    workers=workers)
    return [GradeReport(taskset.name, str(d), [_task_result(u, run) for u in us], run["returncode"], run["log"])
            for d, us in zip(directories, units)]


def grade(directory, set_name=None, *, only=None, tasks_path=None, json_path=None, build_ext=None,
          exitfirst: bool = False, timeout=None, extra_args=(), root=None, workers=None) -> GradeReport:
    """Grade each task of a submission on its own, against the solution everywhere else.

    For each task, the bodies of its target functions are read from
    ``directory`` and transplanted into a copy of the solution (``root``, by
    default the checkout minigrad runs from), in a temporary folder, where the
    task's grading tests run. So a task's score depends on its own functions
    only: a correct task 1.1 scores full marks even when the engine of task 2.2
    is still a stub, and nothing else of the submission (its tests, its task
    list, code outside the targets) is used.

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
        Compile the Cython kernels of the grading tree first (default: when the
        set says ``build_extension = true``).
    exitfirst : bool
        Stop at the first failing test (``pytest -x``): quick, but later tasks
        then count the tests that did not run as not passed.
    timeout : float, optional
        Seconds before the test run is stopped.
    extra_args : sequence of str
        More pytest arguments.
    root : path-like, optional
        The solution checkout (default: where minigrad is imported from).
    workers : int, optional
        pytest processes run side by side, each grading some of the tasks
        (default: ``$MINIGRAD_COURSE_WORKERS``, else one per core the process
        may use, at most 2).

    Returns
    -------
    GradeReport
        A task scores ``points × passed / total``: skipped, failing and
        erroring grading tests all count as not passed; a task none of whose
        grading tests was collected, or whose file does not parse, scores 0.

    Notes
    -----
    The tasks run in one grading tree, dealt to ``workers`` ``python -m pytest``
    processes side by side, each test with the bodies of its own task switched in (see
    :mod:`minigrad.course._transplant`), with ``MINIGRAD_KERNELS`` set by the
    task set and a derandomized Hypothesis profile without an example database
    or shrinking (the same score on every run, quickly). Bodies are taken
    as written: a helper the student added outside the target functions is not
    carried over, so helpers belong inside the function.
    """
    directory = pathlib.Path(directory).resolve()
    if not (directory / "minigrad").is_dir():
        raise FileNotFoundError(f"{directory} holds no minigrad package")
    (result,) = grade_many([directory], set_name, only=only, tasks_path=tasks_path, root=root, build_ext=build_ext,
                           exitfirst=exitfirst, timeout=timeout, extra_args=extra_args, workers=workers)
    if json_path is not None:
        pathlib.Path(json_path).write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return result
