"""Splitting an article into passages (sentences) with exact character offsets into its text.

A passage is the unit newsdesk retrieves and cites, so a citation quotes a sentence, not a chunk:
`article.text[p.start:p.end] == p.text` holds for every passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from index.articles import Article

# Sentences longer than this (in words) are cut at clause or word boundaries, so a passage stays
# a quotable span even in text without punctuation.
MAX_PASSAGE_WORDS = 60
# Fragments shorter than this are merged into the sentence before them ("Photo: AFP").
MIN_PASSAGE_CHARS = 12


@dataclass(frozen=True)
class Passage:
    """One sentence (or a piece of a very long one) of an article."""

    source: str
    ordinal: int  # position in the article, from 0
    start: int
    end: int
    text: str

    @property
    def passage_id(self) -> str:
        return f"{self.source}#{self.ordinal}"


@lru_cache(maxsize=1)
def _sentence_tokenizer():
    import importlib.util

    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    # llama-index-core ships NLTK's punkt_tab data; using it keeps sentence splitting offline.
    spec = importlib.util.find_spec("llama_index.core")
    assert spec is not None and spec.origin is not None
    nltk_data = Path(spec.origin).parent / "_static" / "nltk_cache"
    if str(nltk_data) not in nltk.data.path:
        nltk.data.path.insert(0, str(nltk_data))
    return PunktTokenizer("english")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, for any text (an answer, a paragraph)."""
    spans = []
    for block_start, block_end in _blocks(text):
        for start, end in _sentence_tokenizer().span_tokenize(text[block_start:block_end]):
            spans.append((block_start + start, block_start + end))
    return spans


def split_passages(article: Article) -> list[Passage]:
    """The article's passages, in order, leaving out page furniture and blank text."""
    text = article.text
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        if any(a <= block_start < b for a, b in article.skipped_spans):
            continue
        block = text[block_start:block_end]
        for start, end in _sentence_tokenizer().span_tokenize(block):
            spans.extend(_cut_long(text, block_start + start, block_start + end))
    spans = _merge_fragments(text, spans)
    return [
        Passage(article.source, ordinal, start, end, text[start:end])
        for ordinal, (start, end) in enumerate(spans)
    ]


def _blocks(text: str):
    """Non-blank lines (paragraphs and headlines), as (start, end) with surrounding space trimmed."""
    for match in re.finditer(r"[^\r\n]+", text):
        start, end = match.span()
        line = match.group(0)
        stripped_start = len(line) - len(line.lstrip())
        stripped_end = len(line.rstrip())
        if stripped_end > stripped_start:
            yield start + stripped_start, start + stripped_end


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    words = list(re.finditer(r"\S+", text[start:end]))
    if len(words) <= MAX_PASSAGE_WORDS:
        return [(start, end)]
    pieces = []
    piece_start = 0
    while piece_start < len(words):
        piece_end = min(piece_start + MAX_PASSAGE_WORDS, len(words))
        if piece_end < len(words):
            # Prefer to end at a clause boundary in the second half of the window.
            for index in range(piece_end - 1, piece_start + MAX_PASSAGE_WORDS // 2, -1):
                if words[index].group(0)[-1] in ",;:—–":
                    piece_end = index + 1
                    break
        pieces.append((start + words[piece_start].start(), start + words[piece_end - 1].end()))
        piece_start = piece_end
    return pieces


def _merge_fragments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        fragment = end - start < MIN_PASSAGE_CHARS
        same_line = merged and "\n" not in text[merged[-1][1] : start]
        if fragment and same_line:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
