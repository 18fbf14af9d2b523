# Two entry points, both self-contained on a fresh machine with python3 >= 3.11:
#   make run    set up .venv and open sslstudio on the bundled demo data
#   make test   set up .venv and run the whole test suite
#   make installer   build and check the Linux desktop installer (.deb) under build/installer
#   make lock   refresh requirements-lock.txt to today's newest releases, then run the tests on them
#   make demo-runs   retrain the reference runs shipped in resources/reference-runs (5 CPU minutes each)
#
# The venv installs the exact versions in requirements-lock.txt (a constraints file made by uv from
# pyproject.toml), so a fresh clone tests what was tested here; pyproject keeps ranges for pip users.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sslstudio-installed
LOCK := requirements-lock.txt

.PHONY: setup run test bench installer lock demo-runs clean

$(STAMP): pyproject.toml $(LOCK)
	@echo "Setting up $(VENV): PyTorch and Qt, about 5 GB on a first run (a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -c $(LOCK) -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/sslstudio

test: $(STAMP)
	$(VENV)/bin/ruff check sslstudio tests bench packaging docs
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

installer: $(STAMP)
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[packaging]'
	$(PY) packaging/build.py

demo-runs: $(STAMP)
	$(PY) -m sslstudio.core.reference

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

# Drift on purpose: resolve the newest releases pyproject allows into the lock, install them and run
# the tests. Commit the new lock only when they pass; otherwise the failure names what to fix.
lock:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra packaging --universal --python-version 3.11 \
		--upgrade --no-header --quiet -o $(LOCK)
	$(MAKE) test

clean:
	rm -rf $(VENV) build *.egg-info
