"""The documentation's executable claims: every ``>>>`` example runs and prints what it says.

* the examples in the docstrings of every minigrad module (the API reference
  shows them), and
* the ``>>>`` blocks of the narrative pages under ``docs/`` (the tutorials).

It also checks that the API reference lists every public name, so a new
function cannot go undocumented. The Sphinx build itself (``.ci/run``) renders
the pages; these tests are what makes their numbers trustworthy, and they run
with the rest of the suite, without Sphinx.
"""
from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest

import minigrad

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(minigrad.__path__, "minigrad.") if not m.name.endswith("._kernels")
)
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.glob("**/*.rst") if "_build" not in p.parts
               and not {"generated", "auto_examples", "_gallery_src", "_generated", "_templates"} & set(p.parts))


@pytest.fixture
def fresh_state():
    """Doctests print numbers: give each the same seed and restore NumPy's print options."""
    minigrad.manual_seed(0)
    options = np.get_printoptions()
    yield
    np.set_printoptions(**options)
    assert minigrad.is_grad_enabled()


def _run(tests) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert failed == 0, f"{failed} of {attempted} doctest examples failed (see the output above)"


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run_as_written(module, fresh_state):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(mod, globs={"np": np, "minigrad": minigrad, **vars(mod)}) if t.examples]
    _run(tests)


@pytest.mark.parametrize("page", PAGES)
def test_documentation_page_examples_run_as_written(page, fresh_state):
    text = (DOCS / page).read_text(encoding="utf-8")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {"np": np, "minigrad": minigrad}, page, str(DOCS / page), 0)
    _run([test])


def _public_names(module) -> set:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    out = set()
    for n in names:
        obj = getattr(module, n)
        # Documented as prose: submodules, dtypes, and names imported for internal use.
        if inspect.ismodule(obj) or isinstance(obj, np.dtype) or n == "annotations":
            continue
        out.add(n)
    return out


API_PAGES = {
    "minigrad": "api/minigrad.rst",
    "minigrad.autograd": "api/autograd.rst",
    "minigrad.nn": "api/nn.rst",
    "minigrad.nn.functional": "api/functional.rst",
    "minigrad.nn.init": "api/init.rst",
    "minigrad.nn.utils": "api/utils.rst",
    "minigrad.optim": "api/optim.rst",
    "minigrad.optim.lr_scheduler": "api/lr_scheduler.rst",
    "minigrad.kernels": "api/kernels.rst",
    "minigrad.sparse": "api/sparse.rst",
    "minigrad.testing": "api/testing.rst",
    "minigrad.testing.strategies": "api/testing.rst",
    "minigrad.serialization": "api/serialization.rst",
    "minigrad.viz": "api/viz.rst",
    "minigrad.course": "api/course.rst",
}


@pytest.mark.parametrize("module", sorted(API_PAGES))
def test_api_reference_lists_every_public_name(module):
    mod = importlib.import_module(module)
    text = (DOCS / API_PAGES[module]).read_text(encoding="utf-8")
    listed = {name.split(".")[-1] for name in re.findall(r"^\s{3}~?([\w.]+)\s*$", text, re.MULTILINE)}
    listed |= set(re.findall(r"^\.\. auto(?:data|function|class):: (\w+)", text, re.MULTILINE))
    if module == "minigrad.sparse":
        listed.add("kernels")  # imported by the module, not part of its API
    missing = sorted(_public_names(mod) - listed - {"kernels", "np"})
    assert not missing, f"{API_PAGES[module]} does not list {missing}"
