# The few verbs a newcomer needs. Everything installs itself into .venv on first use.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench quality lint index clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'  # a .pth to this folder (package-dir in pyproject.toml): no compat-mode warning
	$(BIN)/python -m compileall -q assistant  # bytecode up front: a cold `kt ask` should not compile
	touch $(STAMP)

run: $(STAMP)  ## open the REPL on the bundled notes (builds the index on first use)
	$(BIN)/kt

test: $(STAMP)  ## run the test suite (real model included)
	$(BIN)/python -m pytest -q

check: $(STAMP)  ## the tests that need no model and no long build (the fast loop; make test runs them all)
	$(BIN)/python -m pytest -q -m "not model and not slow"

bench: $(STAMP)  ## print speed figures (medians) for the bundled notes and the Kubernetes docs
	$(BIN)/python bench/bench.py

quality: $(STAMP)  ## answer quality on every dev set, by halves, and the relevant rates (builds the k8s index once)
	$(BIN)/python bench/quality.py

lint: $(STAMP)
	$(BIN)/python -m ruff check assistant tests bench

index: $(STAMP)
	$(BIN)/kt index

clean:
	rm -rf $(VENV) index/gen-* index/CURRENT
