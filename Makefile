# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.videobench-installed
DEV_STAMP := $(VENV)/.videobench-dev-installed

.PHONY: demo test bench install dev system-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# torch first, pinned to the CPU build, so nothing later pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	$(PIP) install -q -e ".[dev]"
	touch $@

install: $(STAMP)
dev: $(DEV_STAMP)

# Debian packages the tests use (FFmpeg 5 libraries for torchcodec, chromium for report screenshots).
system-deps:
	bash scripts/system_deps.sh

demo: $(STAMP)
	$(VENV)/bin/videobench eval

# VIDEOBENCH_STRICT_DEPS=1: a test whose system dependency is missing fails instead of skipping, and any skip
# whose reason is not on the allow-list in tests/conftest.py fails (docs/testing.md, "No silent skips").
test: $(DEV_STAMP) system-deps
	VIDEOBENCH_STRICT_DEPS=1 $(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(DEV_STAMP) system-deps
	for f in bench/*.py; do case $$f in bench/gpu_*) continue;; esac; echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache videobench-results
