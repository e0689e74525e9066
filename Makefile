# The two commands a newcomer needs:  make demo   and   make test
PY ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
DEMO_ROOT := $(abspath build/demo)
export PATH := $(BIN):$(PATH)

.PHONY: setup demo demo-timing lab test test-python test-browser test-release bench clean

$(BIN)/python:
	@$(PY) -m venv $(VENV)

## setup: a virtualenv in .venv with the package (editable), its frontend built, and dev tools.
## The second time it installs nothing unless pyproject.toml changed, and the frontend script
## skips its build and tests unless the frontend's sources changed.
INSTALLED := $(VENV)/.mlexp-installed

setup: $(INSTALLED)
	@bash .ci/frontend.sh

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q 'jupyterlab>=4.6,<5' 'hatchling>=1.21' 'hatch-jupyter-builder>=0.9' editables
	bash .ci/frontend.sh
	@# a previous `labextension develop` symlink would make pip write install.json into the source tree
	rm -f $(VENV)/share/jupyter/labextensions/jupyter-mlexp jupyter_mlexp/labextension/install.json
	SKIP_JUPYTER_BUILDER=1 $(BIN)/pip install -q --no-build-isolation -e '.[dev,demo]'
	$(BIN)/jupyter labextension develop --overwrite . > /dev/null 2>&1 || $(BIN)/jupyter labextension develop --overwrite .
	@touch $@

## demo: the example experiment end to end (hypothesis, quick run, full runs over seeds and a grid, report),
## then the verdict's headline and the report's path. Python and pip only: the example never uses the
## frontend, so the package is installed without building the labextension (no Node.js needed).
DEMO_INSTALLED := $(VENV)/.mlexp-demo-installed

demo: $(DEMO_INSTALLED)
	@# The install skipped compiling (--no-compile below): Python caches what the demo imports on first use,
	@# also where PYTHONDONTWRITEBYTECODE is set (else every kernel compiles scikit-learn anew: the second
	@# run took 25-28 s instead of 12-13 s here). The caches go into the demo's own .venv and __pycache__.
	@env -u PYTHONDONTWRITEBYTECODE BIN=$(VENV)/bin DEMO_ROOT=build/demo bash .ci/demo.sh

$(DEMO_INSTALLED): pyproject.toml | $(BIN)/python
	@# after `make setup` (make test, make lab) the package is installed with all the demo needs.
	@# --no-compile: the demo imports a small part of what it installs; Python compiles that part on first use
	@if [ -f $(INSTALLED) ] && [ $(INSTALLED) -nt pyproject.toml ]; then touch $@; else \
	  echo "make demo: installing jupyter-mlexp and scikit-learn into $(VENV) (Python only; the frontend is not built)"; \
	  { $(BIN)/pip install 'hatchling>=1.21' 'hatch-jupyter-builder>=0.9' editables && \
	    SKIP_JUPYTER_BUILDER=1 $(BIN)/pip install --no-compile --no-build-isolation -e '.[demo]'; } > $(VENV)/pip-demo.log 2>&1 \
	  || { tail -n 30 $(VENV)/pip-demo.log; echo "make demo: pip install failed (whole log: $(VENV)/pip-demo.log)"; exit 1; }; \
	  $(BIN)/python -c 'import jupyter_mlexp, sklearn' && touch $@; \
	fi

## demo-timing: a fresh clone of this commit, `make demo` in it twice with Node.js removed from PATH and an
## empty pip cache; prints the wall times and the line counts (goals: <= 120 s, <= 25 lines; second run <= 15 s)
demo-timing:
	@bash .ci/demo-timing.sh

## lab: JupyterLab on the demo's record, with the sidebar (builds the frontend once: needs Node.js >= 18)
lab: setup
	MLEXP_ROOT=$(DEMO_ROOT) $(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

## test: every test: the frontend's lint, unit tests and build (setup), the browser tests, Python (core, runner,
## report, server), and the release check (wheel and sdist, twine, the wheel in a clean venv without Node.js)
test: setup test-browser test-python test-release

## Two workers, each test file whole on one of them (--dist loadfile): files share no port, folder or
## environment (each test has its own temp workspace, Dask dashboards on :0, kernels on fresh ports),
## and a file's module-scoped fixtures and IPython shell stay in one process.
test-python:
	$(BIN)/python -m pytest --ignore=tests/browser -n 2 --dist loadfile

test-browser:
	bash .ci/browser.sh

test-release: setup
	PYTHON=$(BIN)/python bash .ci/release.sh

## bench: one JSON line per figure the issues name
bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build labextension/node_modules labextension/lib jupyter_mlexp/labextension
