# Two entry points a newcomer needs: `make demo` and `make test`. Each sets up its own virtualenv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test install docs dist install-check browser clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU build of torch from the local wheel cache; never the multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	# docs: the test suite also checks that a broken notebook fails the docs build
	$(PY) -m pip install --quiet -e ".[all,test,docs]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/genept demo --out demo_out

# tests/test_report_html.py opens report.html in headless Chromium; without it those tests skip, with the
# reason shown in pytest's summary (-ra). `make browser` installs Chromium (Debian/Ubuntu, needs root).
test: $(VENV)/.installed
	$(PY) -m pytest -q

browser:
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq chromium; }

# The documentation site (API reference + the tutorial notebook, executed offline during the build).
# -E: every page re-read, so the notebook runs every time; -W: any warning, and any error in the notebook,
# fails the build (-T prints the failing cell). Open build/docs/html/index.html.
docs: $(VENV)/.installed
	$(PY) -m sphinx -E -W -T --keep-going -b html docs build/docs/html

# Wheel and sdist into build/dist.
dist: $(VENV)/.installed
	$(PY) -m pip install --quiet build
	rm -rf build/dist
	$(PY) -m build --outdir build/dist .

# Install the wheel as a user would (fresh venv, no editable install, run outside the source tree) and run it.
# The base install needs no torch (only the [local] extra does), so none is installed here.
install-check: dist
	rm -rf build/wheel-venv
	$(PYTHON) -m venv build/wheel-venv
	build/wheel-venv/bin/python -m pip install --quiet --upgrade pip
	build/wheel-venv/bin/python -m pip install --quiet build/dist/genept-*.whl
	cd /tmp && PYTHONPATH= $(CURDIR)/build/wheel-venv/bin/python -c "import genept, sys; \
		assert 'site-packages' in genept.__file__, genept.__file__; print('genept', genept.__version__, 'from', genept.__file__)"
	cd /tmp && PYTHONPATH= $(CURDIR)/build/wheel-venv/bin/genept --help
	cd /tmp && PYTHONPATH= $(CURDIR)/build/wheel-venv/bin/genept genes resolve CD3E 916 NKX6.1

clean:
	rm -rf $(VENV) demo_out bench_out build/docs build/dist build/wheel-venv
