"""Sphinx configuration: the Markdown pages (MyST), the API reference from the docstrings, the example gallery.

Build: ``pip install -e ".[docs]" && sphinx-build -W -b html docs docs/_build/html``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

from qmlsim import __version__  # noqa: E402

project = "qmlsim"
author = "qmlsim developers"
release = version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the docstrings are Google style
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
    "results",  # docs/_ext/results.py: tables and numbers from the JSON in docs/results/
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "results", "gallery/*.ipynb", "gallery/*.py", "gallery/*.md5", "gallery/*.zip"]
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

# scikit-learn generates set_*_request methods (metadata routing) whose docstrings cite its own glossary
autodoc_default_options = {
    "members": True,
    "show-inheritance": False,
    "exclude-members": "set_score_request, set_fit_request, set_predict_request, set_partial_fit_request",
}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True  # dataclass "Attributes:" as fields, not a second description of each attribute

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "gallery",
    "filename_pattern": r"/example_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "plot_gallery": "True",
}

html_theme = "pydata_sphinx_theme"
html_title = f"qmlsim {version}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}

# the gallery times the compiled kernels: compile on first use, never the background-build interim
os.environ.setdefault("QMLSIM_COMPILE", "inline")
