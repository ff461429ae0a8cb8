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
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minigrad

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES_DIR = ROOT / "examples"
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


# Run in a new interpreter: the page's ``>>>`` examples in order, with nothing imported beforehand.
_RUN_PAGE = """
import doctest, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
test = doctest.DocTestParser().get_doctest(text, {"__name__": "__main__"}, path, path, 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
runner.run(test)
failed, attempted = runner.summarize(verbose=False)
print(f"{attempted - failed} of {attempted} examples passed")
sys.exit(1 if failed else 0)
"""


def _fresh_python(args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINIGRAD_", "PYTHON"))}
    env.update(PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("page", PAGES)
def test_documentation_page_examples_run_pasted_into_a_fresh_interpreter(page, tmp_path):
    """Each page alone, in page order, in a new interpreter (in a scratch folder), as a reader pastes them."""
    r = _fresh_python(["-c", _RUN_PAGE, str(DOCS / page)], tmp_path)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]


def _plot_blocks(text: str) -> list:
    """The bodies of the page's ``.. plot::`` directives (inline code, not a file argument)."""
    blocks = []
    for m in re.finditer(r"^\.\. plot::[ \t]*\n((?:[ \t]+:[^\n]*\n)*)((?:(?:[ \t]+[^\n]*)?\n)+)", text, re.MULTILINE):
        blocks.append(textwrap.dedent(m.group(2)))
    return blocks


PLOTS = [(page, i) for page in PAGES for i, _ in enumerate(_plot_blocks((DOCS / page).read_text(encoding="utf-8")))]


@pytest.mark.parametrize("page, index", PLOTS)
def test_documentation_plot_code_runs_pasted_into_a_fresh_interpreter(page, index, tmp_path):
    code = _plot_blocks((DOCS / page).read_text(encoding="utf-8"))[index]
    r = _fresh_python(["-c", code], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]


def _public_names(module) -> set:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    out = set()
    for n in names:
        obj = getattr(module, n)
        # Documented as prose: submodules, dtypes, and names imported for internal use.
        if inspect.ismodule(obj) or isinstance(obj, (np.dtype, minigrad.dtype)) or n == "annotations":
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
    "minigrad.utils.data": "api/data.rst",
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


# -- README.md and .ci/run ------------------------------------------------------------------------
def _bash_lines(markdown: str) -> list:
    blocks = re.findall(r"^```bash\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL)
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip()]


def _ci_lines() -> list:
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_the_readme_commands_as_printed():
    """The test command (split at its last ``&&`` around the course commands), the docs build and
    the course commands; the main job and the benchmarks are run by the docs' gallery and by hand."""
    readme = _bash_lines((ROOT / "README.md").read_text(encoding="utf-8"))
    ci = _ci_lines()
    test_cmd = next(c for c in readme if "-m pytest" in c)
    install, run = test_cmd.rsplit(" && ", 1)
    assert install in ci and run in ci, "steps 3 and 5 of .ci/run are not the README's test command"
    assert ci.index(install) < ci.index(run)
    after = ci[ci.index(run) + 1:]
    assert after and all(line.startswith("finish ") for line in after), "only the background steps' results follow the tests"
    run_elsewhere = ("examples/house_prices.py", "benchmarks/")
    for command in readme:
        if command != test_cmd and not any(part in command for part in run_elsewhere):
            assert command in ci, f".ci/run does not run the README's command {command!r}"
    assert any("minigrad.course build" in c for c in readme) and any("minigrad.course grade" in c for c in readme)


def test_the_docs_build_flags_a_page_that_shows_a_reduced_run_without_saying_so(tmp_path):
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import minigrad_docs
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    (tmp_path / "auto_examples").mkdir()
    (tmp_path / "auto_examples" / "a.html").write_text("<pre>REDUCED RUN (--quick): ...</pre>", encoding="utf-8")
    (tmp_path / "auto_examples" / "b.html").write_text("<pre>R² 0.30</pre>", encoding="utf-8")
    pages = {"auto_examples/a", "auto_examples/b", "auto_examples/c"}
    assert minigrad_docs.unlabelled_reduced_pages(tmp_path, pages) == ["auto_examples/b", "auto_examples/c"]
    # The examples' reduced runs print the label the check looks for, first.
    assert (EXAMPLES_DIR / "_common.py").read_text(encoding="utf-8").count(
        f'QUICK_LABEL = ("{minigrad_docs.REDUCED_RUN_LABEL}') == 1


# -- the "From PyTorch" page ------------------------------------------------------------------------
def _from_pytorch():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import from_pytorch
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    return from_pytorch


def test_from_pytorch_page_lists_minigrads_names_read_from_the_code(tmp_path):
    from_pytorch = _from_pytorch()
    target = tmp_path / "_generated" / "from_pytorch.rst"
    from_pytorch.write_page(target)
    text = target.read_text(encoding="utf-8")
    for name in ("nn.Embedding", "nn.Module.register_forward_hook", "F.cross_entropy", "Tensor.backward",
                 "torch.tensor", "optim.Adam", "utils.data.DataLoader", "autograd.Function"):
        assert f"``{name}``" in text, name
    assert "``torch.compile``" in text.split("What minigrad lacks on purpose")[1]
    page = (DOCS / "from_pytorch.rst").read_text(encoding="utf-8")
    assert ".. include:: _generated/from_pytorch.rst" in page
    assert "from_pytorch" in (DOCS / "index.rst").read_text(encoding="utf-8")
    assert 'from_pytorch.write_page(DOCS / "_generated" / "from_pytorch.rst")' in (DOCS / "conf.py").read_text(encoding="utf-8")


def test_from_pytorch_page_claims_hold_against_the_installed_pytorch():
    """Every listed name is PyTorch's, minigrad's own ones are not, the lacked ones are PyTorch's and absent."""
    import torch  # noqa: F401  (a test dependency: this parity check never skips)
    import torch.autograd.functional  # noqa: F401  (torch's submodules the sections name)
    import torch.utils.data  # noqa: F401

    from_pytorch = _from_pytorch()
    paths = {prefix: (mg, th) for prefix, mg, th in from_pytorch.SECTIONS}
    not_pytorchs, claimed_own = [], []
    for prefix, (mg, th) in paths.items():
        theirs = from_pytorch.resolve(th)
        for name in from_pytorch.provided(mg):
            own = (prefix, name) in from_pytorch.MINIGRAD_OWN
            if not own and not hasattr(theirs, name):
                not_pytorchs.append(f"{prefix}.{name}")
            if own and hasattr(theirs, name):
                claimed_own.append(f"{prefix}.{name}")
    assert not not_pytorchs, (f"listed as PyTorch's but PyTorch has no such name: {not_pytorchs}; make them private "
                              "or say what they are in MINIGRAD_OWN (docs/_ext/from_pytorch.py)")
    assert not claimed_own, f"listed in MINIGRAD_OWN (docs/_ext/from_pytorch.py) but PyTorch has them: {claimed_own}"
    for prefix, names, _ in from_pytorch.LACKED:
        mg, th = paths[prefix]
        for name in names:
            assert hasattr(from_pytorch.resolve(th), name), f"{prefix}.{name} is not a PyTorch name"
            assert not hasattr(from_pytorch.resolve(mg), name), f"minigrad now has {prefix}.{name}: take it off the list"
