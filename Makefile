# daguerre — the two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHECKED := src tests benchmarks scripts

.PHONY: setup demo test lint format bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,web,cluster]'
	touch $(STAMP)

setup: $(STAMP) ## create .venv with torch (CPU) and daguerre

demo: setup ## age the bundled sample photos, then restore them, into out/
	$(BIN)/daguerre age samples/clean --output out/aged --preset heavy --save-mask --overwrite
	$(BIN)/daguerre restore samples/old --output out/restored --compare --save-mask --overwrite
	@echo "aged photos in out/aged, restored old photos (with before/after) in out/restored"

test: setup ## lint, then the test suite
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/pytest -q -n 2

format: setup
	$(BIN)/ruff check --fix $(CHECKED)
	$(BIN)/ruff format $(CHECKED)

bench: setup ## speed and memory figures (slow; not part of the tests)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

docs: setup ## regenerate the pictures in docs/
	$(BIN)/python scripts/make_samples.py
	$(BIN)/python scripts/make_aging_gallery.py
	$(BIN)/python scripts/make_aging_varied.py
	$(BIN)/python scripts/make_restore_sheet.py
	$(BIN)/python scripts/make_restore_damaged.py --height 300
	$(BIN)/python scripts/make_style_sheet.py
	$(BIN)/python scripts/make_faces_sheet.py
	$(BIN)/python scripts/make_upscale_sheet.py

clean:
	rm -rf out .pytest_cache .ruff_cache
