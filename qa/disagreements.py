"""Finding where the retrieved articles disagree: different figures or names for the same fact.

Two passages from different articles disagree when they give different quantities of the same
thing ("dozens of countries" / "nearly 45 countries"), or tell the same statement with different
figures, names or words ("announcing the border peace" / "announce the Peace Council"). Only facts
the question or the answer is about count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from index.store import StoredPassage
from index.english import EDGE_WORDS, QUALIFIERS, QUANTIFIERS, QUANTITY_WORDS
from qa.citations import content_words, normalise
from qa.thresholds import MAX_VERSION_WORDS, MIN_TELLING_RATIO

# Inside a lookahead so matches may overlap: "one of nearly 45 countries" yields "nearly 45
# countries" too, not only "one of nearly".
_QUANTITY = re.compile(
    rf"(?=\b((?:(?:nearly|about|around|almost|some|over|more than|less than|fewer than|at least|up to|"
    rf"roughly|approximately|only|just)\s+)?(?:\d[\d,.]*|{QUANTITY_WORDS})(?:\s+of)?)\s+"
    rf"([A-Za-z][A-Za-z-]+))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FoundDisagreement:
    """A disputed fact and each article's version: (passage index, the version's words)."""

    fact: str
    versions: tuple[tuple[int, str], ...]


def quantities(text: str) -> dict[str, str]:
    """{stemmed noun: "nearly 45 countries"} for the quantities a sentence gives (longest kept)."""
    found: dict[str, str] = {}
    for match in _QUANTITY.finditer(text):
        noun_word = match.group(2)
        words = content_words(noun_word)
        if not words or noun_word.lower() in QUALIFIERS or re.fullmatch(QUANTITY_WORDS, noun_word.lower()):
            continue
        noun = next(iter(words))
        value = f"{match.group(1)} {noun_word}"
        if len(value) > len(found.get(noun, "")):
            found[noun] = value
    return found


def _word_spans(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[\w’'-]+", text)]


def _differing_wording(first: str, second: str, topic: set[str]) -> list[tuple[str, str]]:
    """Where two tellings of the same statement word it differently, on the topic asked about.

    Adjacent differences (at most one equal word apart) are merged, so "border peace, announcing"
    and "Peace Council [and]" come out as one pair, not four fragments.
    """
    words_a, words_b = _word_spans(first), _word_spans(second)
    stems_a = [" ".join(content_words(w)) or w.lower() for w, _, _ in words_a]
    stems_b = [" ".join(content_words(w)) or w.lower() for w, _, _ in words_b]
    matcher = SequenceMatcher(a=stems_a, b=stems_b, autojunk=False)
    if matcher.ratio() < MIN_TELLING_RATIO:  # not two tellings of one statement
        return []
    spans: list[list[int]] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if spans and a0 - spans[-1][1] <= 1 and b0 - spans[-1][3] <= 1:
            spans[-1][1], spans[-1][3] = a1, b1
        else:
            spans.append([a0, a1, b0, b1])
    pairs = []
    for a0, a1, b0, b1 in spans:
        if a0 == a1 or b0 == b1:
            continue  # one telling only adds words: not a disagreement
        if max(a1 - a0, b1 - b0) > MAX_VERSION_WORDS:
            continue
        # Both versions must be about what was asked: on a topic word, or within three words of one.
        near_a = content_words(" ".join(w for w, _, _ in words_a[max(0, a0 - 3) : a1 + 3]))
        near_b = content_words(" ".join(w for w, _, _ in words_b[max(0, b0 - 3) : b1 + 3]))
        around_a, around_b = _around(stems_a, a0, a1), _around(stems_b, b0, b1)
        a0, a1 = _trimmed(stems_a, a0, a1, around_b)
        b0, b1 = _trimmed(stems_b, b0, b1, around_a)
        if a0 >= a1 or b0 >= b1:
            continue
        # "all sides" / "all stakeholders", not "sides" / "stakeholders": a shared quantifier
        # just before both versions is part of what each says.
        if (a0 and b0 and words_a[a0 - 1][0].lower() == words_b[b0 - 1][0].lower()
                and words_a[a0 - 1][0].lower() in QUANTIFIERS):
            a0, b0 = a0 - 1, b0 - 1
        text_a = first[words_a[a0][1] : words_a[a1 - 1][2]].strip("[]()“”\"',.;: ")
        text_b = second[words_b[b0][1] : words_b[b1 - 1][2]].strip("[]()“”\"',.;: ")
        content_a, content_b = content_words(text_a), content_words(text_b)
        if not content_a or not content_b or content_a == content_b:
            continue
        # A difference of wording is shown only when the answer or the question uses the words
        # themselves: "firm up" / "strengthen" matters to "what will it allow them to do?", not
        # to every answer drawn from the same quote.
        if near_a & topic and near_b & topic and (content_a | content_b) & topic:
            pairs.append((text_a, text_b))
    return pairs


def _around(stems: list[str], start: int, end: int) -> set[str]:
    """Words just before and after a span that the span itself does not have."""
    return set(stems[max(0, start - 2) : start] + stems[end : end + 2]) - set(stems[start:end])


def _trimmed(stems: list[str], start: int, end: int, other: set[str]) -> tuple[int, int]:
    """The span without edge words that are stop words or that the other telling has just around
    its own version.

    "border peace, announcing" against "announce the Peace Council [and]" becomes "border peace"
    and "Peace Council": the versions are what differs, not the words around it.
    """
    def spare(stem: str) -> bool:
        return stem in EDGE_WORDS or stem in other

    while start < end and spare(stems[start]):
        start += 1
    while end > start and spare(stems[end - 1]):
        end -= 1
    return start, end


def _same_value(a: str, b: str) -> bool:
    return normalise(a) == normalise(b)


def find_disagreements(
    passages: list[StoredPassage], question: str, answer_text: str
) -> list[FoundDisagreement]:
    """Disagreements between retrieved passages of different articles about what was asked."""
    topic = content_words(question) | content_words(answer_text)
    found: list[FoundDisagreement] = []
    seen: set[tuple[str, ...]] = set()
    for i, first in enumerate(passages):
        for j in range(i + 1, len(passages)):
            second = passages[j]
            if first.source == second.source:
                continue
            for noun, value_a in quantities(first.text).items():
                value_b = quantities(second.text).get(noun)
                if value_b and noun in topic and not _same_value(value_a, value_b):
                    key = ("quantity", noun, *sorted((normalise(value_a), normalise(value_b))))
                    if key not in seen:
                        seen.add(key)
                        found.append(FoundDisagreement(
                            f"how many {value_a.split()[-1]}", ((i, value_a), (j, value_b))))
            for text_a, text_b in _differing_wording(first.text, second.text, topic):
                key = ("wording", *sorted((normalise(text_a), normalise(text_b))))
                if key not in seen:
                    seen.add(key)
                    found.append(FoundDisagreement("the wording", ((i, text_a), (j, text_b))))
    return found
