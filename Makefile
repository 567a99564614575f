# specnb: two commands from a fresh clone.
#   make reproduce   set up .venv, run every paper notebook with the `cpu` profile, write reports/
#   make test        set up .venv, check notebooks and package are in sync, lint specnb/, run the test suite
#   make lab         open JupyterLab on nbs/
#
# Torch: if .venv has no torch, $(TORCH) is installed (on the project's machines `torch==2.13.0` is a local
# CPU build). To use CUDA, install the torch you want into .venv first (python3 -m venv .venv &&
# .venv/bin/pip install torch...) or run e.g. `make reproduce TORCH=torch==2.11.0`: an existing torch is kept.

PYTHON  ?= python3
VENV    ?= .venv
TORCH   ?= torch==2.13.0
PROFILE ?= cpu
OUT     ?= reports
JOBS    ?= 2
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.specnb-installed

.PHONY: reproduce test check-sync lint pytest lab export wheel clean help
.DEFAULT_GOAL := help

help:
	@echo "make reproduce   run every paper notebook (profile $(PROFILE)) -> $(OUT)/index.html"
	@echo "make test        sync check + lint + the whole test suite"
	@echo "make lab         JupyterLab on nbs/"
	@echo "make export      nbdev-export + nbdev-clean after editing notebooks"
	@echo "make wheel       dist/specnb-*.whl, carrying the notebooks, settings.ini and data/ (works outside a checkout)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

reproduce: $(STAMP)
	MPLBACKEND=Agg $(BIN)/specnb reproduce --all --profile $(PROFILE) --out $(OUT)

# The notebooks are the source: exporting and cleaning them must not change any tracked or new file.
check-sync: $(STAMP)
	@if ! git rev-parse --git-dir >/dev/null 2>&1; then echo "check-sync: not a git checkout, skipped"; exit 0; fi; \
	before=$$( (git diff -- nbs specnb; git ls-files -o --exclude-standard -- nbs specnb) | md5sum); \
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean || exit 1; \
	after=$$( (git diff -- nbs specnb; git ls-files -o --exclude-standard -- nbs specnb) | md5sum); \
	if [ "$$before" != "$$after" ]; then \
	  echo "check-sync: nbdev-export/nbdev-clean changed files: notebooks and specnb/ were out of sync or unclean."; \
	  git status --short -- nbs specnb; git diff --stat -- nbs specnb; exit 1; \
	fi; echo "check-sync: notebooks and specnb/ are in sync and clean"

pytest: $(STAMP)
	# one BLAS/OpenMP thread per test worker (and per notebook kernel it starts): $(JOBS) workers on $(JOBS) cores;
	# oversubscribed OpenMP threads spin against each other and made single tests up to 20x slower
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --durations=10 tests

# undefined names and unused imports in the exported package (pyflakes' rules); fix them in the notebooks, then `make export`
lint: $(STAMP)
	$(BIN)/ruff check --select F specnb

test: check-sync lint pytest

export: $(STAMP)
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean

# setup.py copies nbs/, settings.ini and data/{zoo,bench,corpora} into the wheel as specnb/_shipped/
wheel: $(STAMP)
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation -w dist .

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=nbs

clean:
	rm -rf $(OUT) .pytest_cache
