# make demo: plan the bundled example visit into outputs/
# make test: lint, then run the whole test suite
# make lint: ruff and mypy over planner/ (strict on the foundation and the core packages)
# make bench: run the benchmarks and write benchmarks/RESULTS.md
# make serve: the planning board on http://127.0.0.1:8765/ with the example visit in workspace/
# make docs: regenerate the generated parts of docs/ (input tables, rule tables, command reference)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXAMPLE := inputs/tower-hamlets-2018

.PHONY: demo lint test bench serve docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/planner plan $(EXAMPLE) --out outputs/tower-hamlets-2018 --deterministic
	$(BIN)/planner verify $(EXAMPLE) outputs/tower-hamlets-2018

lint: $(STAMP)
	$(BIN)/ruff check --quiet planner
	$(BIN)/mypy --no-error-summary

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --out benchmarks/RESULTS.md

serve: $(STAMP)
	@mkdir -p workspace
	@[ -e workspace/tower-hamlets-2018 ] || cp -R $(EXAMPLE) workspace/tower-hamlets-2018
	$(BIN)/planner serve workspace

docs: $(STAMP)
	$(BIN)/python -m planner.input.schema
	$(BIN)/python -m planner.rules
	$(BIN)/python -m planner.cli_docs

clean:
	rm -rf $(VENV) build *.egg-info
