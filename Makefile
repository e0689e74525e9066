# The two commands a newcomer needs:  make demo   and   make test
PY ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
DEMO_ROOT := $(abspath build/demo)
export PATH := $(BIN):$(PATH)

.PHONY: setup demo test test-python test-browser bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

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

## demo: the example experiment end to end (quick run, full sweep over seeds and a grid, report)
demo: setup
	rm -rf $(DEMO_ROOT) && mkdir -p $(DEMO_ROOT)
	MLEXP_ROOT=$(DEMO_ROOT) $(BIN)/mlexp run notebooks/digits.ipynb --quick
	MLEXP_ROOT=$(DEMO_ROOT) $(BIN)/mlexp journal --experiment digits-sgd --tag WEIRD \
	  "quick run (30% of the data, 3 epochs): train loss still falling at the last epoch; the full runs use 15"
	MLEXP_ROOT=$(DEMO_ROOT) $(BIN)/mlexp run notebooks/digits.ipynb --full --seeds 0,1,2 --grid alpha=0.0001,0.01 --jobs 2
	MLEXP_ROOT=$(DEMO_ROOT) $(BIN)/mlexp runs digits-sgd
	MLEXP_ROOT=$(DEMO_ROOT) $(BIN)/mlexp report digits-sgd
	@echo "record: $(DEMO_ROOT)/experiments/digits-sgd  (report.ipynb inside)"

## test: every test: Python (core, runner, report, server), frontend unit tests, and the browser test
test: setup test-browser test-python

test-python:
	$(BIN)/python -m pytest --ignore=tests/browser

test-browser:
	bash .ci/browser.sh

## bench: one JSON line per figure the issues name
bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build labextension/node_modules labextension/lib jupyter_mlexp/labextension
