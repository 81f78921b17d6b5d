"""Sphinx configuration of genept's documentation: API reference from docstrings + an executed tutorial.

Build: ``make docs`` (= ``python -m sphinx -E -W -T --keep-going -b html docs build/docs/html``). Offline: no
intersphinx, no remote theme assets. The tutorial notebook is executed during every build; an error in
it fails the build (``nb_execution_raise_on_error``), and so does any Sphinx warning (``-W``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The notebook kernel inherits this environment: no network, no progress bars in the output.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GENEPT_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

try:
    import genept
except ImportError:  # building from a source tree without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import genept

project = "genept"
author = "genept developers"
copyright = "genept developers (MIT licence)"
release = version = genept.__version__

extensions = [
    "myst_nb",  # Markdown pages and executed .ipynb notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # numpy-style docstrings
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]

# API reference: documented from the docstrings, in source order, with type hints in the description.
autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": False}
autodoc_typehints = "description"
autodoc_mock_imports = ["torch", "sentence_transformers", "openai", "dask", "distributed", "zarr", "scib_metrics", "jax"]
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

# Notebooks: always executed, here, with a generous per-cell limit (2 shared cores); a failing cell fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 1200
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_in_temp = True  # the tutorial's report folder does not land in docs/
nb_merge_streams = True

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"genept {release}"
html_static_path: list[str] = []
html_theme_options = {"description": "Gene and single-cell embeddings from written knowledge about genes", "fixed_sidebar": True}
