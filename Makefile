# CAM & SeCAM — an executable book.
#
#   make book   build the website into _build/html, executing every notebook
#   make student  write the student edition into _build/student: every chapter without
#               its written solutions, for handing out (book_tools/student_edition.py)
#   make test   unit tests and the book's rules, the docstring examples, a strict book build,
#               every notebook under nbval, site checks, the built site in headless
#               Chromium (installed with apt-get if missing; the photo page's box runs
#               the network there on uploaded photos), and every chapter run in
#               JupyterLab in that browser
#
# The notebooks run three times in `make test`, on purpose differently: the strict build
# runs them as the website is built (seed 0, every core), nbval runs them again
# with another seed on one thread, and every check in every chapter must hold in
# both. Choose the second run's settings with
#   make test NBVAL_SEED=5 NBVAL_THREADS=2
# A third run is a student's: every chapter opened in JupyterLab and run with Run All
# (tests/browser/test_jupyterlab.py), checking what the rendered page shows.
#
# Both create .venv and install the pinned requirements the first time, and
# again only when requirements*.txt, pyproject.toml or the JavaScript lock file
# change.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
VENDOR := book/_vendor
VENDOR_SITE := $(VENDOR)/site/_static/vendor
VENDOR_STAMP := $(VENDOR)/site/.installed
# JupyterLab's settings for the book's readers (no news prompt, no update check: the book
# works offline), where JupyterLab of this environment reads them.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

# Use the kernel of this virtual environment even if the user has another
# "python3" kernel registered in ~/.local/share/jupyter.
export JUPYTER_PREFER_ENV_PATH := 1
# Silence debugpy's note about frozen modules, which kernels print to stderr.
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# Long loops in the chapters print one summary line instead of a live bar
# (nobody watches a build; a widget bar would be saved dead into the page).
export CAM_BOOK_PROGRESS := summary
# The first cell of every chapter installs the book where it is missing (Colab).
# Under make the book is always installed: a would-be install is an error instead.
export CAM_BOOK_NO_INSTALL := 1

# The second execution of the chapters (nbval): another seed, another thread count.
NBVAL_SEED ?= 1
NBVAL_THREADS ?= 1
# ... on two workers, each running whole notebooks on NBVAL_THREADS thread(s): both cores work.
NBVAL_WORKERS ?= 2

.PHONY: help book student test install browser clean

help:
	@echo "make book   build the website into _build/html (executes the notebooks)"
	@echo "make student  write the student edition (every chapter without its solutions) into _build/student"
	@echo "make test   run everything: unit tests, book rules, docstring examples, strict book build, nbval, site checks, browser test"

install: $(INSTALLED) $(VENDOR_STAMP) $(LAB_OVERRIDES)

$(LAB_OVERRIDES): book/jupyterlab/overrides.json $(INSTALLED)
	mkdir -p $(dir $@)
	cp $< $@

$(INSTALLED): requirements.txt requirements-nodeps.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed; set PYTHON=/path/to/python3")'
	@echo "==> Creating $(VENV) and installing the pinned requirements (a few minutes, once)"
	$(PYTHON) -m venv $(VENV)
	@# An older .venv may hold opencv-python-headless, which shares its files with the contrib build.
	$(BIN)/python -m pip uninstall --disable-pip-version-check -y -q opencv-python-headless opencv-python 2>/dev/null || true
	$(BIN)/python -m pip install --disable-pip-version-check --no-input -q -r requirements.txt
	$(BIN)/python -m pip install --disable-pip-version-check --no-input -q --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --disable-pip-version-check --no-input -q --no-deps --no-build-isolation -e .
	@touch $@

# MathJax, RequireJS, the widgets' HTML manager and onnxruntime-web, served by the website itself
# (copied into _build/html/_static/vendor through html_extra_path in _config.yml).
$(VENDOR_STAMP): $(VENDOR)/package.json $(VENDOR)/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm (Node.js) is needed to install MathJax and the widget manager locally; install Node.js (Debian: apt-get install npm) and run make again" >&2; exit 1; }
	@echo "==> Installing the website's JavaScript from the npm registry (once)"
	npm ci --prefix $(VENDOR) --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR)/site
	mkdir -p $(VENDOR_SITE)/html-manager
	cp -r $(VENDOR)/node_modules/mathjax/es5 $(VENDOR_SITE)/mathjax
	cp $(VENDOR)/node_modules/requirejs/require.js $(VENDOR_SITE)/require.js
	cp $(VENDOR)/node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js \
	   $(VENDOR)/node_modules/@jupyter-widgets/html-manager/dist/*.{woff,woff2,ttf,eot,svg} \
	   $(VENDOR_SITE)/html-manager/
	@# onnxruntime-web for the page "Explain your own photo" (notebooks/05b_your_photo): the WebAssembly build only
	@# (its script, the module that loads the .wasm, the .wasm), fetched when a reader asks.
	mkdir -p $(VENDOR_SITE)/onnxruntime-web
	cp $(VENDOR)/node_modules/onnxruntime-web/dist/{ort.wasm.min.js,ort-wasm-simd-threaded.mjs,ort-wasm-simd-threaded.wasm} \
	   $(VENDOR_SITE)/onnxruntime-web/
	@touch $@

# Debian's Chromium for the browser test (tests/browser): installed when it is
# missing and this machine allows it (root and apt-get). The browser test is
# required: without Chromium its tests fail and say why. A machine that cannot
# run Chromium opts out with CAM_BOOK_SKIP_BROWSER=1 (the tests are skipped, loudly).
browser:
	@case "$${CAM_BOOK_SKIP_BROWSER:-}" in 1|true|yes|TRUE|True|YES|Yes) \
	  echo "!! CAM_BOOK_SKIP_BROWSER is set: the browser tests will be skipped"; exit 0;; esac; \
	if command -v chromium >/dev/null 2>&1 || [ -n "$${CAM_BOOK_CHROMIUM:-}" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "==> Installing Debian's chromium for the browser test (once)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	    || echo "!! could not install chromium with apt-get: the browser tests will fail (CAM_BOOK_SKIP_BROWSER=1 skips them)"; \
	else \
	  echo "!! chromium is missing and cannot be installed here (needs root and apt-get): the browser tests will fail (CAM_BOOK_SKIP_BROWSER=1 skips them)"; \
	fi

book: install
	@echo "==> Building the book (every chapter runs: the prose quotes values its code computes)"
	time $(BIN)/jupyter-book build .
	@echo "==> The book is in _build/html/index.html"

student: install
	$(BIN)/python -m book_tools.student_edition --out _build/student

test: install browser
	@echo "==> Unit tests of tutorial_utils and benchmarks, and the book's rules (tests/book)"
	time $(BIN)/python -m pytest tests/unit tests/book
	@echo "==> Docstring examples of tutorial_utils, benchmarks and book_tools, cut off from the network (tests/isolation.py)"
	time $(BIN)/python -m pytest -p isolation --doctest-modules tutorial_utils benchmarks book_tools
	@echo "==> Strict book build (seed 0, every core): every page re-read, warnings are errors"
	time env -u OMP_NUM_THREADS CAM_BOOK_SEED=0 $(BIN)/jupyter-book build . --all --warningiserror --keep-going
	@echo "==> Every notebook again under nbval, differently: seed $(NBVAL_SEED), $(NBVAL_THREADS) thread(s), $(NBVAL_WORKERS) notebooks at a time"
	time OMP_NUM_THREADS=$(NBVAL_THREADS) CAM_BOOK_SEED=$(NBVAL_SEED) $(BIN)/python -m pytest -n $(NBVAL_WORKERS) --dist loadfile --nbval-lax --nbval-current-env notebooks
	@echo "==> Checks of the built site, and the site in headless Chromium"
	time $(BIN)/python -m pytest tests/site tests/browser/test_browser.py tests/browser/test_photo_page.py
	@echo "==> Every chapter in JupyterLab, as a student runs it: Run All in headless Chromium (screenshots in test-artifacts/jupyterlab)"
	time $(BIN)/python -m pytest tests/browser/test_jupyterlab.py

clean:
	rm -rf _build test-artifacts
