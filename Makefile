# Two entry points: `make demo` (the whole pipeline on the embedded default) and `make test`.
# Each builds its own virtual environment. torch is pinned first so that the local CPU wheel
# is used and no multi-GB CUDA build is pulled in.
PYTHON ?= python3
VENV ?= .venv
TORCH_VERSION ?= 2.13.0
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output

.PHONY: demo demo-real test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/sgdsm demo --workdir $(DEMO_DIR)

demo-real: $(VENV)/.installed
	$(BIN)/sgdsm demo --workdir $(DEMO_DIR)-real --real tests/data/lprm

test: $(VENV)/.installed
	$(BIN)/ruff check sgdsm_cloud benchmarks tests
	$(BIN)/ruff format --check sgdsm_cloud benchmarks tests
	$(BIN)/lint-imports
	$(BIN)/mypy sgdsm_cloud
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(DEMO_DIR)-real
