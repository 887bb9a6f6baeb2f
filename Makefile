# The two commands: `make run` (a local node with demo data) and `make test` (every test).
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: run test lint bench messages clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test,spark]"
	touch $(STAMP)

run: $(STAMP)
	-scripts/pdf-libraries.sh
	$(VENV)/bin/opennrm run

test: $(STAMP)
	VENV=$(VENV) scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# After changing interface text: extract new strings into the ro/uk/ru catalogues, then
# (once they are translated) compile them. tests/core/test_translation_catalogues.py checks both.
messages: $(STAMP)
	cd src/opennrm && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=$(CURDIR) \
	  $(CURDIR)/$(VENV)/bin/python -P -m django makemessages --no-location --no-obsolete \
	  --ignore 'migrations/*' -l ro -l uk -l ru
	cd src/opennrm && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=$(CURDIR) \
	  $(CURDIR)/$(VENV)/bin/python -P -m django compilemessages

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/bench_node.py --cases 100000

clean:
	rm -rf $(VENV) var
