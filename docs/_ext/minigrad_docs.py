"""Build helpers for minigrad's documentation (imported by ``docs/conf.py``).

* :func:`stage_examples` copies ``examples/*.py`` into a git-ignored folder for
  sphinx-gallery, adding the gallery header and a reST title to each script's
  docstring when its first line is not one already;
* :func:`gallery_argv` runs every example in full (its default run), or with
  ``--quick`` when ``MINIGRAD_DOCS_QUICK=1`` asks for a fast local build;
* :func:`check_reduced_runs_are_labelled` fails the build if a page shows the
  output of a reduced run without saying so;
* :func:`saved_figure_scraper` puts the figures the examples *save* (they close
  them) on the gallery pages;
* :func:`annotate_kernels` runs ``cython -a`` on the kernels into a git-ignored
  folder whose HTML is copied to the site;
* :func:`write_benchmark_snippet` shows the latest saved benchmark results, or
  the command that produces them.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

GALLERY_HEADER = """\
Examples
========

Runnable scripts that answer the questions minigrad was written for. Each page
shows the output of the script's default run, ``python examples/<name>.py``,
made when this site was built, and the figure it saved.
"""

#: ``MINIGRAD_DOCS_QUICK=1``: run the gallery's scripts with ``--quick`` (a local preview).
QUICK = os.environ.get("MINIGRAD_DOCS_QUICK") == "1"

#: What every page that shows a reduced run must say (the examples' ``--quick`` output starts with it).
REDUCED_RUN_LABEL = "REDUCED RUN"

QUICK_GALLERY_HEADER = GALLERY_HEADER.replace(
    "shows the output of the script's default run",
    "shows a REDUCED RUN (``--quick``): less data and fewer steps than the script's default run, so its "
    "numbers are not the documented ones; the pages say so at the top of their output. This site "
    "was built with MINIGRAD_DOCS_QUICK=1 for a preview; without it, the pages show the default run",
)

#: docnames of the pages that show a reduced run, checked when the build finishes.
_reduced_pages: set = set()

#: The annotation page's name in the built site.
ANNOTATION_NAME = "kernels_annotated.html"


# -- gallery -------------------------------------------------------------------------
def _with_title(source: str) -> str:
    """Give a script's module docstring a reST title (its first line, underlined).

    The examples open with a one-line summary ("Embedding vs Linear: the same
    function, a different bill."), which reads well in a terminal but is not a
    section title; sphinx-gallery needs one to name the page.
    """
    m = re.match(r'(\s*(?:#[^\n]*\n)*\s*)("""|\'\'\')([^\n]*)\n', source)
    if m is None:
        return source
    first = m.group(3).strip()
    rest = source[m.end():]
    if re.match(r"\s*([=\-~^#*+])\1{2,}\s*\n", rest):   # already underlined
        return source
    title = first.rstrip(".")
    return f"{m.group(1)}{m.group(2)}{title}\n{'=' * len(title)}\n\n{rest}"


def _with_file(source: str, path: Path) -> str:
    """Define ``__file__`` and ``__doc__`` in a hidden block, as ``python script.py`` does.

    sphinx-gallery runs scripts without ``__file__`` and with an empty
    ``__doc__``; the examples find their helper module and output folder from
    the first and build their ``--help`` text from the second.
    The block goes after the docstring and any ``from __future__`` import (which
    must come first) and is executed but not shown.
    """
    doc = ast.get_docstring(ast.parse(source), clean=False) or ""
    hidden = ("# sphinx_gallery_start_ignore\n"
              f"__file__ = {str(path)!r}\n"
              f"__doc__ = {doc!r}\n"
              "# sphinx_gallery_end_ignore\n")
    lines = source.splitlines(keepends=True)
    futures = [i for i, line in enumerate(lines) if line.startswith("from __future__ import")]
    if futures:
        at = futures[-1] + 1
    else:
        # After the module docstring: the first line that closes it.
        quote = '"""' if source.lstrip().startswith('"""') else "\'\'\'"
        start = source.index(quote)
        end = source.index(quote, start + 3) + 3
        at = source[:end].count("\n") + 1
    return "".join(lines[:at] + [hidden] + lines[at:])


def stage_examples(src: Path, dst: Path) -> Path:
    """Copy ``src/*.py`` into a fresh ``dst`` prepared for sphinx-gallery; return ``dst``."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    (dst / "GALLERY_HEADER.rst").write_text(QUICK_GALLERY_HEADER if QUICK else GALLERY_HEADER, encoding="utf-8")
    for path in sorted(src.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if not path.name.startswith("_"):
            text = _with_file(_with_title(text), dst / path.name)
        (dst / path.name).write_text(text, encoding="utf-8")
    # Data files the examples read beside themselves (tiny_gpt's text) travel with them.
    for folder in sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith((".", "_")) and p.name != "output"):
        shutil.copytree(folder, dst / folder.name)
    return dst


def gallery_argv(gallery_conf, script_vars):
    """Command-line arguments for every gallery script: none (the default run), or ``--quick``."""
    if not QUICK:
        return []
    _reduced_pages.add(f"auto_examples/{Path(script_vars['src_file']).stem}")
    _reduced_pages.add("auto_examples/index")
    return ["--quick"]


def unlabelled_reduced_pages(outdir, reduced_pages) -> list:
    """The docnames among ``reduced_pages`` whose built HTML in ``outdir`` does not say ``REDUCED RUN``."""
    missing = []
    for docname in sorted(reduced_pages):
        html = Path(outdir) / f"{docname}.html"
        if not html.is_file() or REDUCED_RUN_LABEL not in html.read_text(encoding="utf-8"):
            missing.append(docname)
    return missing


def check_reduced_runs_are_labelled(app, exception):
    """``build-finished``: every page that shows a reduced run says so, in words a reader sees.

    Reduced runs come from the gallery in quick mode and from benchmark results
    saved from a ``--quick`` run. A warning fails the ``-W`` build.
    """
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    for docname in unlabelled_reduced_pages(app.outdir, _reduced_pages):
        logging.getLogger(__name__).warning(
            f"{docname} shows a reduced (--quick) run but does not say {REDUCED_RUN_LABEL!r}")


_seen_figures: dict = {}


def saved_figure_scraper(block, block_vars, gallery_conf):
    """sphinx-gallery image scraper for figures saved to ``<script dir>/output/*.png``.

    The examples save their figure with ``fig.savefig`` and close it (so that a
    terminal run leaves no window open); matplotlib's own scraper only sees open
    figures. New or rewritten PNGs since the last call are copied to the image
    paths sphinx-gallery hands out.
    """
    from sphinx_gallery.scrapers import figure_rst

    out_dir = Path(block_vars["src_file"]).parent / "output"
    images = []
    for png in sorted(out_dir.glob("*.png")) if out_dir.is_dir() else ():
        stamp = png.stat().st_mtime_ns
        if _seen_figures.get(png) == stamp:
            continue
        _seen_figures[png] = stamp
        target = Path(next(block_vars["image_path_iterator"]))
        shutil.copyfile(png, target)
        images.append(str(target))
    return figure_rst(images, gallery_conf["src_dir"])


# -- cython -a -------------------------------------------------------------------------
def annotate_kernels(pyx: Path, out_dir: Path) -> Path:
    """Run ``cython -a`` on ``pyx`` into ``out_dir``; return the folder for html_extra_path.

    The annotated HTML shows each line of the kernels shaded by how much Python
    C-API it turns into (white: plain C). Nothing is written beside the sources.
    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    work = out_dir / "work"
    work.mkdir()
    c_file = work / (pyx.stem + ".c")
    subprocess.run(
        [sys.executable, "-m", "cython", "-3", "-a", str(pyx), "-o", str(c_file)],
        check=True, capture_output=True, text=True,
    )
    site = out_dir / "site"
    site.mkdir()
    html = c_file.with_suffix(".html").read_text(encoding="utf-8")
    # The page links the generated C file, which the site does not publish (megabytes of C).
    html, n = re.subn(r'<p>Raw output: <a href="[^"]*">[^<]*</a></p>', "", html)
    if n != 1:
        raise RuntimeError("cython -a output changed: the link to the C file was not found")
    (site / ANNOTATION_NAME).write_text(html, encoding="utf-8")
    return site


# -- benchmarks ------------------------------------------------------------------------
BENCH_COMMAND = "python benchmarks/bench_kernels.py --quick"


def write_benchmark_snippet(bench_dir: Path, target: Path) -> None:
    """Write the reST included by the kernels page under "Benchmarks".

    Every saved output of ``bench_kernels.py`` in ``benchmarks/results/``
    (``kernels*.txt``) is shown verbatim: the grid on an idle machine first
    (``kernels_quick.txt``), then any other runs (``--load``, ``--bandwidth``)
    by name; otherwise the page shows the command to produce one. Timings are
    never taken during the docs build: they would be slow, and meaningless on
    a shared builder.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    # Only the kernel benchmark's files; a checkout's mtimes say nothing about when a run was made.
    results = sorted((bench_dir / "results").glob("kernels*.txt"), key=lambda p: (p.name != "kernels_quick.txt", p.name))
    if results:
        parts = []
        for result in results:
            reduced = "quick" in result.name
            if reduced:
                _reduced_pages.add("kernels")
            parts.append(
                (f"A {REDUCED_RUN_LABEL} (``--quick``, a small grid of shapes): " if reduced else "A saved run: ")
                + f"``benchmarks/results/{result.name}``, on two shared cores, with the settings "
                "its first lines print:\n\n"
                # A leading "/" makes Sphinx resolve the path from the docs source directory.
                f".. literalinclude:: /{os.path.relpath(result.resolve(), target.parent.parent.resolve())}\n"
                "   :language: text\n"
            )
        text = "\n".join(parts)
    else:
        text = (
            "No saved results are in the repository (``benchmarks/results/*.txt``); the "
            "numbers depend on the machine anyway. Produce them with::\n\n"
            f"    {BENCH_COMMAND}\n\n"
            "and, to keep them for this page, save the output as "
            "``benchmarks/results/kernels_<machine>.txt``.\n"
        )
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def setup(app):
    """Register the reduced-run check; the rest of the work happens at import (from conf.py)."""
    app.connect("build-finished", check_reduced_runs_are_labelled)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
