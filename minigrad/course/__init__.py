"""Course kit: hand out minigrad with chosen function bodies missing, and grade the work.

The course lives in one declarative file, ``minigrad/course/tasks.toml``:
numbered assignments (title, estimated hours, objectives, what the tests
check), and tasks ``"A.T"`` that each name the functions students write
(``path.py::Class.method``), a title, hints, points, and the project's own
tests that grade it (pytest node-id patterns). Nothing in the source or the tests carries course markup:

* ``python -m minigrad.course list`` prints the task sets;
* ``python -m minigrad.course build starter --out DIR`` writes a student copy
  of this checkout in which each task's function bodies are replaced by
  ``raise NotImplementedError("Task A.T: <title>")`` (signature and docstring
  kept, every other byte unchanged), with one handout per assignment in
  ``handouts/``; ``--assignment N`` removes the tasks of assignment N only;
* ``python -m minigrad.course grade DIR`` grades each task on its own: the
  bodies of its functions are taken from ``DIR`` and transplanted into a copy
  of the solution, where the task's tests run; it prints a score table and can
  write an autograder JSON file;
* ``python -m minigrad.course mutants`` grades the catalogue of known-wrong
  answers (``mutants.toml``): each must be rejected;
* ``python -m minigrad.course map starter --out docs/course`` measures which
  tasks each task's tests call and draws the course map.

A student copy also carries GitHub Classroom's autograding configuration
(``.github/classroom/autograding.json``: one test per task, its pytest
command, its points). A task's ``hidden_tests`` are left out of the copy and
run by ``grade`` from the instructor's checkout.

``tests/conftest.py`` gives every grading test the marker of its task (and
of its set), so ``pytest -m task_starter_1_1`` runs the tests of task 1.1.
"""
from minigrad.course._build import build, project_files, repo_root
from minigrad.course._grade import GradeReport, TaskResult, Unit, grade, grade_many, run_units
from minigrad.course._leaks import find_leaks
from minigrad.course._spec import Assignment, Task, TaskSet, load, marker_name
from minigrad.course._stub import StubError, stub_source

__all__ = [
    "Assignment",
    "Task",
    "TaskSet",
    "TaskResult",
    "GradeReport",
    "StubError",
    "load",
    "marker_name",
    "build",
    "find_leaks",
    "grade",
    "grade_many",
    "run_units",
    "Unit",
    "project_files",
    "repo_root",
    "stub_source",
]
