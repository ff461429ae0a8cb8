"""The catalogue of known-wrong answers (``mutants.toml``) and the proof that grading rejects them.

Each mutant is a wrong body for one target of one task. It is graded exactly as a
student's body is: transplanted into the solution, with that task's grading tests
(see :func:`minigrad.course.grade`). A mutant is *rejected* when one of them
fails, and *named* when the failing tests' ids or messages match its ``expect``
pattern, so the student reading them is pointed at the misconception.
"""
from __future__ import annotations

import ast
import dataclasses
import pathlib
import re
import textwrap

from minigrad.course import _spec
from minigrad.course._grade import Unit, _task_result, run_with_submissions

#: The catalogue shipped with minigrad (left out of student copies).
DEFAULT_MUTANTS_FILE = pathlib.Path(__file__).with_name("mutants.toml")


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A known-wrong body for ``target`` of task ``task_id`` (see ``mutants.toml``)."""

    name: str
    set_name: str
    task_id: str
    target: str
    misconception: str
    expect: str
    body: str


@dataclasses.dataclass
class MutantResult:
    """What grading said of one mutant."""

    mutant: Mutant
    rejected: bool
    named: bool
    passed: int
    total: int  # the tests that ran: after a failure that names the mistake, the others are skipped
    failed: list
    output: str


def load_mutants(path=None, tasks_path=None) -> list:
    """Read and check the catalogue: unique names, real tasks and targets, bodies that parse."""
    path = pathlib.Path(path) if path is not None else DEFAULT_MUTANTS_FILE
    with open(path, "rb") as f:
        data = _spec._toml.load(f)
    sets = _spec.load(tasks_path)
    out, seen = [], set()
    keys = {"name", "set", "task", "target", "misconception", "expect", "body"}
    for k, m in enumerate(data.get("mutants", [])):
        where = f"{path}: mutant #{k + 1} ({m.get('name', '?')})"
        unknown = set(m) - keys
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("name", "task", "target", "misconception", "expect", "body"):
            if not m.get(key):
                raise ValueError(f"{where}: missing {key!r}")
        if m["name"] in seen:
            raise ValueError(f"{where}: duplicate name")
        seen.add(m["name"])
        set_name = m.get("set", "starter")
        if set_name not in sets:
            raise ValueError(f"{where}: unknown task set {set_name!r}")
        task = sets[set_name].task(m["task"])
        if m["target"] not in task.targets:
            raise ValueError(f"{where}: {m['target']!r} is not a target of task {task.id} ({list(task.targets)})")
        body = textwrap.dedent(m["body"])
        if not m["target"].split("::")[0].endswith(".pyx"):
            try:
                ast.parse(body)
            except SyntaxError as exc:
                raise ValueError(f"{where}: the body is not valid Python (line {exc.lineno}: {exc.msg})") from None
        re.compile(m["expect"])
        out.append(Mutant(m["name"], set_name, task.id, m["target"], m["misconception"], m["expect"], body))
    return out


def run_mutants(set_name: str = "starter", mutants=None, *, submissions=(), root=None, tasks_path=None,
                timeout=None, build_ext=None, every_test: bool = False):
    """Grade every mutant of ``set_name`` (and, in the same run, the given submissions).

    Returns ``(mutant results, grade reports of the submissions)``: one run of
    pytest, one grading tree, one compile when the set needs the extension.
    A mutant's tests stop at the first failure that matches its ``expect``
    (it is then rejected and named), unless ``every_test``.
    """
    sets = _spec.load(tasks_path)
    taskset = sets[set_name]
    if mutants is None:
        mutants = [m for m in load_mutants(tasks_path=tasks_path) if m.set_name == set_name]
    units = [Unit(taskset.task(m.task_id), {m.target: m.body}, stop=None if every_test else m.expect)
             for m in mutants]
    run, reports = run_with_submissions(taskset, sets, units, submissions, root=root, tasks_path=tasks_path,
                                        timeout=timeout, build_ext=build_ext)
    results = []
    for m, u in zip(mutants, units):
        r = _task_result(u, run)
        status, outputs = run[u.key()]
        text = "\n".join(f"{n}\n{outputs.get(n, '')}" for n in r.failed)
        results.append(MutantResult(m, r.total > 0 and r.passed < r.total,
                                    bool(re.search(m.expect, text, re.I)), r.passed, r.total, r.failed, r.output))
    return results, reports


def table(results) -> str:
    """One line per mutant: rejected or not, hint named or not, and the misconception."""
    width = max([len(r.mutant.name) for r in results] + [6])
    rows = [f"{'mutant':<{width}} {'task':<5} {'failed/ran':>12}  verdict"]
    for r in results:
        verdict = ("rejected, named" if r.named else "rejected, NOT NAMED") if r.rejected else "NOT REJECTED"
        rows.append(f"{r.mutant.name:<{width}} {r.mutant.task_id:<5} {r.total - r.passed:>5}/{r.total:<6}  {verdict}")
    n = sum(r.rejected for r in results)
    rows.append(f"{n} of {len(results)} rejected, {sum(r.rejected and r.named for r in results)} with a message naming it")
    return "\n".join(rows)
