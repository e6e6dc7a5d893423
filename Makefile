# make demo: plan the bundled example visit into outputs/
# make test: run the whole test suite
# make bench: run the benchmarks and write benchmarks/RESULTS.md
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXAMPLE := inputs/tower-hamlets-2018

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/planner plan $(EXAMPLE) --out outputs/tower-hamlets-2018 --deterministic
	$(BIN)/planner verify $(EXAMPLE) outputs/tower-hamlets-2018

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --out benchmarks/RESULTS.md

clean:
	rm -rf $(VENV) build *.egg-info
