"""The prompts, kept as text files in `qa/prompts/`, and the fixed prefix every model call opens with.

Every call (an answer, a follow-up's rewrite, the warm-up) starts with the same system prompt and
worked examples, so llama.cpp keeps them evaluated and reads only what follows.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files



@lru_cache(maxsize=None)
def prompt(name: str) -> str:
    """The text of `qa/prompts/<name>.txt`."""
    return files("qa").joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8").strip()


def fixed_prefix() -> tuple[dict[str, str], ...]:
    """The system prompt and the worked examples (answer_examples.txt) as earlier chat turns.

    Every model call starts with exactly these messages: llama.cpp keeps them evaluated, so an
    answer, a follow-up rewrite or the warm-up reads only what comes after them.
    """
    parts = [part.strip() for part in prompt("answer_examples").split("\n---\n")]
    roles = ("user", "assistant")
    return ({"role": "system", "content": prompt("answer_system")},
            *({"role": roles[i % 2], "content": part} for i, part in enumerate(parts)))
