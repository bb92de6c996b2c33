# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

DEMO_DB := demo.db
# The password of demo.db's three users (ada admin, ana analyst, vic viewer): demo only.
DEMO_PASSWORD := demo-only-password

# Replay the seeds into a fresh SQLite file: the new matches, then what the store holds.
demo: $(STAMP)
	$(BIN)/watcher rules check rules/
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN)/watcher --db sqlite:///$(DEMO_DB) replay --rules rules/ seeds/
	@echo "--- stored articles"
	$(BIN)/watcher --db sqlite:///$(DEMO_DB) articles
	@echo "--- stored matches"
	$(BIN)/watcher --db sqlite:///$(DEMO_DB) matches
	@for who in ada:admin ana:analyst vic:viewer; do \
		echo "$(DEMO_PASSWORD)" | $(BIN)/watcher --db sqlite:///$(DEMO_DB) users add $${who%%:*} --role $${who##*:}; \
	done
	@echo "--- the team's workspace on the demo data (users ada, ana, vic; password $(DEMO_PASSWORD)):"
	@echo "    $(BIN)/watcher --db sqlite:///$(DEMO_DB) web     # then open http://127.0.0.1:8080/"

test: $(STAMP)
	scripts/system-packages.sh
	$(BIN)/ruff check watcher tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

bench: $(STAMP)
	scripts/bench-packages.sh
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check watcher tests bench scripts
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
