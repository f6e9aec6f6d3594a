# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Test files run on this many processes (pytest-xdist); one file stays on one process.
TEST_WORKERS ?= 2
PORT ?= 8501

.PHONY: run test bench reproduce sweep clean help

help:
	@echo "make run     set up .venv and start the dashboard on http://localhost:$(PORT)"
	@echo "make test    set up .venv with test tools and run every test"
	@echo "make bench   print the benchmark figures (bench/)"
	@echo "make reproduce  rerun the tutorial's 10-repeat comparison (docs/)"
	@echo "make sweep   rerun the larger length sweep on a local Dask cluster (docs/length_sweep.*)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The pinned requirements, then this project in editable mode (its dependencies are those pins),
# so `import seqattn` works from any folder and any process started from the venv (Dask, notebooks).
$(VENV)/.run-deps: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.test-deps: requirements-test.txt $(VENV)/.run-deps
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	@touch $@

run: $(VENV)/.run-deps
	$(BIN)/streamlit run dashboard.py --server.port $(PORT)

test: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

bench: $(VENV)/.test-deps
	$(BIN)/python bench/train_speed.py
	$(BIN)/python bench/predict_latency.py
	$(BIN)/python bench/startup_time.py
	$(BIN)/python bench/sweep_scaling.py
	$(BIN)/python bench/cancel_latency.py

# Each model to 95 % held-out exact match within a cap, at input lengths up to 30 (about 20 min on
# 2 cores); the figure is drawn by Chromium (the test tools), as the README's.
sweep: $(VENV)/.test-deps
	$(BIN)/python bench/length_sweep.py --large --out docs/length_sweep

reproduce: $(VENV)/.run-deps
	$(BIN)/python -m seqattn compare --repeats 10 --csv docs/tutorial_comparison.csv
	$(BIN)/python bench/plot_comparison.py docs/tutorial_comparison.csv docs/tutorial_loss.svg

clean:
	rm -rf $(VENV) .pytest_cache
