# Two entry points, both self-contained on a fresh machine with python3 >= 3.11:
#   make run    set up .venv and open sslstudio on the bundled demo data
#   make test   set up .venv and run the whole test suite
#   make installer   build and check the Linux desktop installer (.deb) under build/installer
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sslstudio-installed

.PHONY: setup run test bench installer clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/sslstudio

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

installer: $(STAMP)
	$(PY) -m pip install --quiet -e '.[packaging]'
	$(PY) packaging/build.py

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
