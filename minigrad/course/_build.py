"""Write a student copy of the repository with the tasks' function bodies removed."""
from __future__ import annotations

import fnmatch
import json
import os
import pathlib
import shutil
import subprocess

import minigrad
from minigrad.course import _spec
from minigrad.course._stub import stub_many

#: Written at the top of a student copy: which set it holds and which tasks were removed.
MANIFEST = ".minigrad-course.json"

# Never copied: version control, environments, build products, caches, outputs.
_EXCLUDE_DIRS = {
    ".git", ".hg", ".venv", "venv", "build", "dist", "__pycache__", ".hypothesis", ".pytest_cache",
    ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".eggs", "_build", "output",
}
_EXCLUDE_FILES = ("*.pyc", "*.pyo", "*.so", "*.pyd", "*.o", "*.egg-info", "minigrad/_kernels.c",
                  "minigrad/_kernels.html", ".coverage", MANIFEST,
                  "minigrad/course/mutants.toml")  # wrong answers, one edit from the right ones


def repo_root() -> pathlib.Path:
    """The source checkout minigrad runs from (the directory holding ``minigrad/`` and ``pyproject.toml``).

    Raises
    ------
    RuntimeError
        When minigrad is installed as a wheel rather than from a checkout
        (``pip install -e .``): there are no tests to hand out then.
    """
    root = pathlib.Path(minigrad.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file() or not (root / "tests").is_dir():
        raise RuntimeError(
            f"minigrad is imported from {root}, which is not a source checkout (no pyproject.toml "
            "and tests/ there); install it with `pip install -e <checkout>` to build course material"
        )
    return root


def project_files(root) -> list:
    """Relative paths (POSIX) of the files that make up the project at ``root``.

    In a git checkout: tracked files plus untracked ones not ignored by
    ``.gitignore`` (``git ls-files -co --exclude-standard``), as they are on disk.
    Elsewhere: every file, minus caches, environments and build products.
    The fixed exclusions apply in both cases.
    """
    root = pathlib.Path(root)
    names = None
    if (root / ".git").exists() and shutil.which("git"):
        r = subprocess.run(
            ["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=root, capture_output=True,
        )
        if r.returncode == 0:
            names = [n for n in r.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    if names is None:
        names = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _EXCLUDE_DIRS and not d.endswith(".egg-info"))
            rel = pathlib.Path(dirpath).relative_to(root)
            names.extend((rel / f).as_posix() for f in sorted(filenames))
    keep = []
    for name in names:
        parts = name.split("/")
        if any(p in _EXCLUDE_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
            continue
        if any(fnmatch.fnmatch(name, pat) or fnmatch.fnmatch(parts[-1], pat) for pat in _EXCLUDE_FILES):
            continue
        if (root / name).is_file():  # deleted-but-tracked files are skipped
            keep.append(name)
    return sorted(keep)


def _excluded(name: str, patterns) -> bool:
    return any(name == p or fnmatch.fnmatch(name, p) or name.startswith(p.rstrip("/") + "/") for p in patterns)


def hidden_files(taskset: "_spec.TaskSet", names) -> list:
    """The files among ``names`` holding hidden tests of ``taskset``: they stay out of the student copy.

    Raises
    ------
    ValueError
        A file holds both hidden and visible grading tests: hidden tests go in
        files of their own, since a copy holds whole files.
    """
    hidden = [_spec._pattern(f) for t in taskset.tasks for p in t.hidden_tests for f in [p.split("::", 1)[0]]]
    out = [n for n in names if any(rx.match(n) for rx in hidden)]
    for t in taskset.tasks:
        for p in t.tests:
            rx = _spec._pattern(p.split("::", 1)[0])
            both = [n for n in out if rx.match(n)]
            if both:
                raise ValueError(f"task {t.id}: {both[0]} holds hidden tests and the visible grading tests "
                                 f"{p!r}; put hidden tests in files of their own")
    return out


def student_files(root, taskset: "_spec.TaskSet") -> list:
    """The files of ``root`` that go into a student copy of ``taskset`` (before stubbing).

    :func:`project_files` minus the set's ``exclude`` patterns and the files of
    its hidden tests.
    """
    files = [f for f in project_files(root) if not _excluded(f, taskset.exclude)]
    hidden = set(hidden_files(taskset, files))
    return [f for f in files if f not in hidden]


def _select(taskset: "_spec.TaskSet", only) -> list:
    if not only:
        return list(taskset.tasks)
    return [taskset.task(t) for t in only]


def stubbed_files(root, tasks) -> dict:
    """``{relative path: new text}`` for every file that holds a target of ``tasks``."""
    root = pathlib.Path(root)
    by_file: dict = {}
    for task in tasks:
        for target in task.targets:
            path, qualname = target.split("::", 1)
            by_file.setdefault(path, []).append((task, qualname))
    out = {}
    for path, items in by_file.items():
        file = root / path
        if not file.is_file():
            raise FileNotFoundError(f"task {items[0][0].id}: target file {path} does not exist in {root}")
        with open(file, encoding="utf-8", newline="") as f:
            text = f.read()
        pyx = path.endswith((".pyx", ".pxd", ".pxi"))
        out[path] = stub_many(text, [(q, t.message(), t.stub, f"{path} (task {t.id})") for t, q in items], pyx=pyx)
    return out


def build(set_name: str, out, *, only=None, tasks_path=None, root=None, force: bool = False) -> pathlib.Path:
    """Write the student copy of task set ``set_name`` into the directory ``out``.

    Parameters
    ----------
    set_name : str
        A set of the task file (``python -m minigrad.course list``).
    out : path-like
        Must not exist, or be empty (or ``force``).
    only : list of str, optional
        Task ids to remove (default: every task of the set), e.g. to hand out
        one chapter at a time.
    tasks_path : path-like, optional
        Another task file (default: the one shipped with minigrad).
    root : path-like, optional
        The solution checkout (default: where minigrad is imported from).
    force : bool
        Write into a non-empty ``out``, replacing files of the same name.

    Returns
    -------
    pathlib.Path
        ``out``. It holds the project (package, tests, build files, docs,
        examples), the stubbed functions, ``ASSIGNMENT.md`` and a manifest that
        ``grade`` reads.
    """
    sets = _spec.load(tasks_path)
    if set_name not in sets:
        raise KeyError(f"unknown task set {set_name!r}; choose one of {', '.join(sets)}")
    taskset = sets[set_name]
    tasks = _select(taskset, only)
    root = pathlib.Path(root) if root is not None else repo_root()
    out = pathlib.Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"{out} exists and is not empty (use --force to write into it)")
    if out.resolve() == root.resolve() or root.resolve() in out.resolve().parents:
        raise ValueError(f"{out} is inside the solution checkout {root}; choose a directory outside it")
    new_text = stubbed_files(root, tasks)  # before copying: a bad target fails early
    files = student_files(root, taskset)
    missing = sorted(set(new_text) - set(files))
    if missing:
        raise ValueError(f"target files {missing} would not be part of the copy (excluded or untracked?)")
    out.mkdir(parents=True, exist_ok=True)
    for name in files:
        dest = out / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if name in new_text:
            with open(dest, "w", encoding="utf-8", newline="") as f:
                f.write(new_text[name])
            shutil.copymode(root / name, dest)
        else:
            shutil.copy2(root / name, dest)
    manifest = {"set": taskset.name, "tasks": [t.id for t in tasks]}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (out / "ASSIGNMENT.md").write_text(assignment_text(taskset, tasks, files), encoding="utf-8")
    classroom = out / CLASSROOM_CONFIG
    classroom.parent.mkdir(parents=True, exist_ok=True)
    classroom.write_text(json.dumps(classroom_config(taskset, tasks, files), indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    workflow = out / CLASSROOM_WORKFLOW
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(_WORKFLOW, encoding="utf-8")
    for name, text in handouts(taskset, tasks, files).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    return out


#: Folder of a student copy that holds one handout per assignment.
HANDOUTS = "handouts"


def handouts(taskset, tasks, files=()) -> dict:
    """``{relative path: text}``: the handout of each assignment that has a task among ``tasks``."""
    out = {}
    for a in taskset.assignments:
        mine = [t for t in tasks if t.assignment == a.number]
        if mine:
            out[f"{HANDOUTS}/assignment-{a.number}.md"] = handout_text(taskset, a, mine, files)
    return out


def handout_text(taskset, assignment, tasks, files=()) -> str:
    """One assignment's handout: time, objectives, its tasks, what the tests check, hints."""
    a = assignment
    points = sum(t.points for t in tasks)
    lines = [
        f"# Assignment {a.number}: {a.title}",
        "",
        f"Estimated time: {a.hours:g} hours. {len(tasks)} task{'s' if len(tasks) != 1 else ''}, {points:g} points "
        f"(task set `{taskset.name}`).",
        "",
        "## Objectives",
        "",
    ]
    lines += [f"- {o}" for o in a.objectives] + ["", "## Tasks", ""]
    for t in tasks:
        lines += [f"### Task {t.id}: {t.title}  ({t.points:g} point{'s' if t.points != 1 else ''})", ""]
        lines += [f"- write `{target}`" for target in t.targets]
        lines += [f"- run its tests: `{task_command(taskset, t, files)}`"]
        if t.hidden_tests:
            lines += ["- your instructor also grades it with tests held back: make it right, not just green"]
        lines += [""]
        if t.hints:
            lines += [f"- {h}" for h in t.hints] + [""]
    lines += ["## What the tests check", ""] + [f"- {c}" for c in a.checks] + [""]
    if a.hints:
        lines += ["## Hints", ""] + [f"- {h}" for h in a.hints] + [""]
    lines += ["Your score so far: `python -m minigrad.course grade .` (each task is graded on its own: "
              "a task's score does not depend on the others).", ""]
    return "\n".join(lines)




#: GitHub Classroom's autograding tests, read by the ``education/autograding`` action.
CLASSROOM_CONFIG = ".github/classroom/autograding.json"
#: The workflow that runs them on every push.
CLASSROOM_WORKFLOW = ".github/workflows/classroom.yml"

#: Installs a student copy, editable, with the test and examples extras (the training task runs an
#: example). PyTorch's CPU index is added: its ``2.13.0+cpu`` satisfies the test extra's ``torch==2.13.0``
#: and is preferred, as a local version, to PyPI's Linux wheel, the much larger CUDA build.
INSTALL = "python -m pip install -e '.[test,examples]' --extra-index-url https://download.pytorch.org/whl/cpu"

_WORKFLOW = """\
name: Autograding
on: [push, workflow_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  autograding:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - uses: education/autograding@v1
"""


def task_command(taskset: "_spec.TaskSet", task: "_spec.Task", files=()) -> str:
    """The shell command that runs ``task``'s grading tests in a student copy.

    Only the test files that hold them are collected (quicker than the whole
    suite); ``files`` are the copy's files, to expand patterns with ``*``.
    """
    tests = []
    for pattern in task.tests:
        file = pattern.split("::", 1)[0]
        found = [f for f in files if _spec._pattern(file).match(f)] if "*" in file else [file]
        tests += [f for f in found if f not in tests]
    return f"MINIGRAD_KERNELS={taskset.kernels} python -m pytest -m {task.marker} -q " + " ".join(tests)


def classroom_config(taskset: "_spec.TaskSet", tasks, files=()) -> dict:
    """GitHub Classroom's ``autograding.json``: one test per task, run by its pytest command.

    A test earns the task's points when its command exits with status 0: every
    grading test of the task in the copy passed (a test skipped because it
    needs another task first does not). The first test installs the copy
    (``setup``); the others reuse the installation.
    """
    setup = INSTALL + (" && python setup.py build_ext --inplace" if taskset.build_extension else "")
    minutes = 10
    return {"tests": [
        {
            "name": t.message(),
            "setup": setup if k == 0 else "",
            "run": task_command(taskset, t, files),
            "input": "",
            "output": "",
            "comparison": "included",
            "timeout": minutes,
            "points": int(t.points) if float(t.points).is_integer() else t.points,
        }
        for k, t in enumerate(tasks)
    ]}


def assignment_text(taskset, tasks, files=()) -> str:
    """The student's instructions: how to install and test, then one section per removed task."""
    lines = [
        f"# Assignment: {taskset.name}",
        "",
        taskset.description,
        "",
        "Some function bodies in this copy of minigrad were replaced by",
        '`raise NotImplementedError("Task N.M: ...")`. Write them. Everything else works.',
        "",
        "Install it, from this directory, in a fresh virtual environment (`python3 -m venv .venv`",
        "and `. .venv/bin/activate`), with one command:",
        "",
        "```",
        INSTALL,
        "```",
        "",
        "Run the tests that grade one task, e.g. task " + tasks[0].id + ", from this directory:",
        "",
        "```",
        task_command(taskset, tasks[0], files),
        "```",
        "",
        "and your score so far with `python -m minigrad.course grade .`.",
        "",
    ]
    if taskset.build_extension:
        lines += ["This set needs the compiled kernels: `python setup.py build_ext --inplace` after each change.", ""]
    for t in tasks:
        lines += [f"## Task {t.id}: {t.title}  ({t.points:g} point{'s' if t.points != 1 else ''})", ""]
        lines += [f"- write `{target}`" for target in t.targets]
        lines += [f"- graded by `pytest -m {t.marker}`"]
        if t.hidden_tests:
            lines += ["- and by more tests your instructor holds back: make it right, not just green"]
        lines += [""]
        if t.hints:
            lines += ["Hints:", ""] + [f"- {h}" for h in t.hints] + [""]
    return "\n".join(lines)
