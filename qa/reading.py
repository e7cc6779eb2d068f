"""Stage 3, reading: what the model is given (the prompt, the passages numbered as it reads them)
and its reply, streamed as it is written.

In: a `Question` and the passages to read. Out: the reply's text, streamed with its citations
written `[n]` and the prompt's article labels gone, then whole; or, asked (`verify_answers`), the
model's own verdict on it.
"""

from __future__ import annotations

import time
from collections.abc import Generator

from index.english import REFUSAL
from index.store import StoredPassage
from qa.citations import canonical_markers, readable_prefix
from qa.llm import ChatModel
from qa.prompting import fixed_prefix, prompt
from qa.question import Question

# What a model says when the passages do not hold the answer (its worked examples say it so).
REFUSED_REPLY = "NOT IN THE ARTICLES"


def blocks(passages: list[StoredPassage]) -> list[list[int]]:
    """Retrieved sentences grouped as the model reads them: consecutive sentences of one article
    make one numbered passage, in article order, so "Among them, around 19 countries..." comes
    with the sentence that says among whom. Blocks keep the rank of their best sentence."""
    order = sorted(range(len(passages)), key=lambda i: (passages[i].source, passages[i].ordinal))
    grouped: list[list[int]] = []
    for index in order:
        previous = passages[grouped[-1][-1]] if grouped else None
        if (previous is not None and previous.source == passages[index].source
                and passages[index].ordinal == previous.ordinal + 1):
            grouped[-1].append(index)
        else:
            grouped.append([index])
    return sorted(grouped, key=min)


def numbered(passages: list[StoredPassage], with_dates: bool = False) -> str:
    """The passages as the prompt gives them: "[1] (A) ...", one line a block."""
    # A letter per article instead of its title: every prompt token costs ~20 ms on 2 cores. For a
    # question about time, the article's date too ("(A, published 2025-12-19)"): "on Friday"
    # means nothing without it.
    letters: dict[str, str] = {}
    lines = []
    for number, block in enumerate(blocks(passages), start=1):
        first = passages[block[0]]
        letter = letters.setdefault(first.source, chr(ord("A") + len(letters) % 26))
        tag = f"{letter}, published {first.published}" if with_dates and first.published else letter
        lines.append(f"[{number}] ({tag}) " + " ".join(passages[i].text for i in block))
    return "\n".join(lines)


def messages(question: str, passages: list[StoredPassage], with_dates: bool) -> list[dict[str, str]]:
    """The chat messages that ask the model to answer `question` from `passages`."""
    return [
        *fixed_prefix(),
        {"role": "user", "content": prompt("answer_user").format(
            passages=numbered(passages, with_dates=with_dates), question=question)},
    ]


def reading_messages(question: Question, passages: list[StoredPassage]) -> list[dict[str, str]]:
    """The messages the model answers `question` from: the same for its reply and its scoring."""
    return messages(question.standalone, passages, question.prompt_dates)


def warm_up_messages() -> list[dict[str, str]]:
    """A question with no passages: the model reads the fixed prefix, once, before the first reader."""
    return messages("Is the model ready?", [], with_dates=False)


class Reply:
    """The model's reply, streamed: iterate for the shown text as generated; `.text` is the whole
    reply once done, `.first_token_seconds` when its first token came (after `started`)."""

    def __init__(self, model: ChatModel, question: Question, passages: list[StoredPassage],
                 started: float):
        self.model, self.question, self.passages, self.started = model, question, passages, started
        self.text = ""
        self.first_token_seconds: float | None = None

    def __iter__(self) -> Generator[str, None, str]:
        """Yield the reply as it can be shown: citations written `[n]`, the prompt's article labels
        gone (the reader sees neither "[B]" nor "(1)"); return it whole."""
        count = len(blocks(self.passages))
        reply, shown = "", ""
        asking = reading_messages(self.question, self.passages)
        for piece in self.model.stream(asking):
            if self.first_token_seconds is None:
                self.first_token_seconds = time.perf_counter() - self.started
            reply += piece
            visible = readable_prefix(reply, count)
            if visible.startswith(shown) and len(visible) > len(shown):
                yield visible[len(shown):]
                shown = visible
        reply = canonical_markers(reply, count)
        if reply.startswith(shown) and len(reply) > len(shown):
            yield reply[len(shown):]
        self.text = reply
        return reply


def checking_messages(question: Question, passages: list[StoredPassage], reply: str) -> list[dict[str, str]]:
    """The reading conversation, the reply, and the question whether a passage states it: asked in
    the same conversation, llama.cpp reuses everything it has evaluated (a few new tokens)."""
    return reading_messages(question, passages) + [
        {"role": "assistant", "content": reply},
        {"role": "user", "content": prompt("verify")},
    ]


def verified(model: ChatModel, question: Question, passages: list[StoredPassage], reply: str) -> str:
    """The reply, or NOT IN THE ARTICLES when the model, asked, does not stand by it.

    Asked in the same conversation, so llama.cpp reuses everything it has evaluated: the check
    costs a few new tokens, not a second reading of the passages.
    """
    if refused(reply):
        return reply
    verdict = model.complete(checking_messages(question, passages, reply), max_tokens=3).strip().lower()
    return REFUSED_REPLY if verdict.startswith("no") else reply


def refused(reply: str) -> bool:
    """Whether the model's reply says the passages do not give the answer."""
    return not reply.strip() or bool(REFUSAL.search(reply))
