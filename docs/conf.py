"""Sphinx configuration for minigrad's documentation.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Everything the build generates goes to git-ignored places (see docs/.gitignore):
autosummary's API stubs, the gallery, the staged copy of the examples and the
``cython -a`` annotation of the kernels.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))

# The examples print progress bars to stderr; keep the build log readable.
os.environ.setdefault("MINIGRAD_EXAMPLES_NO_PROGRESS", "1")
# Matplotlib without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

import shutil  # noqa: E402

import minigrad  # noqa: E402

# Generated pages are rebuilt every time: a stale stub of a renamed function or
# a removed example would otherwise linger and fail the -W build.
for _generated in (DOCS / "api" / "generated", DOCS / "auto_examples"):
    shutil.rmtree(_generated, ignore_errors=True)
import from_pytorch  # noqa: E402  (docs/_ext: the names of the "From PyTorch" page)
import minigrad_docs  # noqa: E402  (docs/_ext: gallery staging, cython annotation, benchmark table)

project = "minigrad"
author = "the minigrad authors"
copyright = "the minigrad authors"
release = version = minigrad.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "minigrad_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_gallery_src", "_generated", "**.ipynb_checkpoints", "sg_execution_times.rst"]
root_doc = "index"
default_role = "py:obj"

# -- API reference -------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"            # numpydoc's Parameters sections say it better
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False   # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = False

# -- Examples gallery ------------------------------------------------------------
# The examples are staged into docs/_gallery_src (see minigrad_docs.stage_examples)
# so the build can give each one a gallery title without editing examples/.
GALLERY_SRC = minigrad_docs.stage_examples(ROOT / "examples", DOCS / "_gallery_src")
sphinx_gallery_conf = {
    "examples_dirs": str(GALLERY_SRC),
    "gallery_dirs": "auto_examples",
    # Every script that is not a helper module (_common.py) is run...
    "filename_pattern": r"/[^_/][^/]*\.py$",
    "ignore_pattern": r"(^|/)_[^/]*\.py$",
    # ...in full: the pages show the default run's numbers (MINIGRAD_DOCS_QUICK=1: --quick, labelled).
    "reset_argv": "minigrad_docs.gallery_argv",
    # The examples save their figure and close it; this scraper picks the saved files up.
    "image_scrapers": ("minigrad_docs.saved_figure_scraper",),
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "abort_on_example_error": True,
    "write_computation_times": False,
    "plot_gallery": "True",
}

# -- Executed plots in the narrative pages -----------------------------------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.figsize": (6.4, 3.6)}

# -- Doctests in the pages (also run by tests/test_docs.py) --------------------------
# None: each page imports what it uses (tests/test_docs.py runs every page in a fresh interpreter).

# -- HTML --------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "minigrad"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
# The left sidebar only lists a section's pages: the API reference's and the gallery's. Elsewhere
# it would be an empty column (the sections themselves are in the top bar).
html_sidebars = {"*": [], "course/*": []}
html_static_path = ["_static"]
html_css_files = ["minigrad.css"]
# The kernels' `cython -a` annotation, generated at build time outside the source tree.
html_extra_path = [str(minigrad_docs.annotate_kernels(ROOT / "minigrad" / "_kernels.pyx",
                                                      DOCS / "_build" / "_cython_annotation"))]
minigrad_docs.write_benchmark_snippet(ROOT / "benchmarks", DOCS / "_generated" / "benchmarks.rst")
# The "From PyTorch" page's lists, read from the code being documented.
from_pytorch.write_page(DOCS / "_generated" / "from_pytorch.rst")
