# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.videobench-installed
DEV_STAMP := $(VENV)/.videobench-dev-installed

.PHONY: demo test bench mutation install dev system-deps clean

# pip's and setuptools' chatter (the editable-install notice, this machine's index warnings) goes to a log that is
# printed only when a step fails, so `make demo` shows its table and nothing else of ours.
LOG := $(VENV)/install.log
QUIET = >>$(LOG) 2>&1 || { cat $(LOG); echo "install failed: see $(LOG)"; exit 1; }

$(PY):
	$(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (log: $(LOG))"
	@$(PIP) install -q --upgrade pip $(QUIET)

# torch first, pinned to the CPU build, so nothing later pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(PY)
	@echo "installing torch (CPU build), then videobench"
	@$(PIP) install -q torch==2.13.0 $(QUIET)
	@$(PIP) install -q -e . $(QUIET)
	@touch $@

$(DEV_STAMP): $(STAMP)
	@echo "installing the dev extras"
	@$(PIP) install -q -e ".[dev]" $(QUIET)
	@touch $@

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

# Each script writes bench/results/<name>.json and exits 1 on a missed target; the page is regenerated either way.
# bench/reference_scoring.py also times VideoAlign's own inference when VIDEOBENCH_REFERENCE_PYTHON (its env's python)
# and VIDEOBENCH_REFERENCE_SRC (a VideoAlign checkout) are set; without them it times our side only and says so.
bench: $(DEV_STAMP) system-deps
	status=0; for f in bench/*.py; do case $$f in bench/gpu_*|bench/table.py|bench/render_docs.py) continue;; esac; \
	  echo "== $$f"; $(PY) $$f || status=1; done; $(PY) bench/render_docs.py; exit $$status

# Mutation testing (docs/contributing.md#mutation-testing): scripts/mutation.py runs mutmut once per target of
# pyproject.toml [tool.videobench.mutation.*], each staged under mutants/<target>/ in the layout it is imported under.
# TARGET=align runs one target; ARGS=recheck re-runs its survivors after new tests; ARGS="show NAME" shows one mutant.
mutation: $(DEV_STAMP)
	nice -n 10 $(PY) scripts/mutation.py $(TARGET) $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache videobench-results mutants
