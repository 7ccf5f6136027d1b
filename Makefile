# Two commands set everything up on a fresh machine: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# every install reads the lock (constraints.txt); test-latest reads only the torch pin
LOCK ?= constraints.txt
LATEST_VENV ?= .venv-latest
THREADS := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

.PHONY: demo test test-all test-latest lock lint docs docs-clean clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -c $(LOCK) --upgrade pip
	# torch first, pinned to 2.13.0: the CPU build where pip finds it (this project's wheelhouse,
	# or a venv prepared as README.md says); else PyPI's default, a CUDA build
	$(BIN)/python -m pip install -c $(LOCK) torch==2.13.0
	$(BIN)/python -m pip install -c $(LOCK) -e ".[dask,test,dev,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(THREADS) $(BIN)/surrogate study dsgc --out study-dsgc

# two worker processes (the suite's numerics run single-threaded), each test file in one of them
XDIST := -n 2 --dist loadfile

test: $(STAMP)
	$(THREADS) $(BIN)/python -m pytest -q $(XDIST)

test-all: $(STAMP)
	$(THREADS) $(BIN)/python -m pytest -q $(XDIST) -m "slow or not slow"

# The suite against the newest versions pyproject.toml allows (no lock): drift shows here first.
test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --upgrade pip
	$(LATEST_VENV)/bin/python -m pip install -c constraints-latest.txt torch==2.13.0
	$(LATEST_VENV)/bin/python -m pip install -c constraints-latest.txt -e ".[dask,test,dev,docs]"
	$(LATEST_VENV)/bin/python -m pip freeze --exclude-editable
	$(THREADS) $(LATEST_VENV)/bin/python -m pytest -q $(XDIST)

# Refresh the lock: resolve the newest allowed versions in a scratch venv and freeze them.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --upgrade pip
	.venv-lock/bin/python -m pip install -c constraints-latest.txt torch==2.13.0
	.venv-lock/bin/python -m pip install -c constraints-latest.txt -e ".[dask,test,dev,docs]" -r benchmarks/requirements.txt
	{ sed -n '/^#/p' constraints.txt; .venv-lock/bin/python -m pip freeze --all --exclude-editable \
	    | grep -v '^torch=='; echo 'torch==2.13.0'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-lock

# The documentation site into docs/_build/html; any warning is an error. The gallery runs
# examples/ (SURROGATE_GALLERY=small: at the tiny sizes of tests/test_examples.py, as CI does).
docs: $(STAMP)
	@cd docs && $(THREADS) PYTHONPATH=$(CURDIR) ../$(BIN)/sphinx-build -b html -W --keep-going -q . _build/html

docs-clean:
	rm -rf docs/_build docs/auto_examples docs/api docs/simulators docs/sg_execution_times.rst

lint: $(STAMP)
	$(BIN)/ruff check surrogate simulators tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV)
