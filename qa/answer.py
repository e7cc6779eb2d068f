"""What `ask()` returns: the `Answer`, its citations, disagreements and corroborations, and the
typed events `ask_stream()` yields on the way to it (`Passages`, `Text`, then `Final`).

Every claim of an answer is tied to the sentence it comes from: `citations[n-1]` is marker `[n]`
in `text`, and `article_text(source)[start:end] == quote`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from index.store import StoredPassage

NOT_IN_ARTICLES = "The articles don't say."
# How an answer that declines opens when it shows the sentences closest to an answer.
COULD_NOT_CONFIRM = "I could not confirm an answer in the articles. The closest sentences:"


@dataclass(frozen=True)
class Citation:
    """A quoted passage: `article_text(source)[start:end] == quote`."""

    number: int
    source: str
    title: str
    quote: str
    start: int
    end: int
    outlet: str | None = None
    published: str | None = None
    url: str | None = None  # the article's web address: a fetched page's, or its sidecar's `url`


@dataclass(frozen=True)
class Version:
    """One article's version of a disputed fact (versions are listed newest article first)."""

    text: str
    citations: list[int]
    source: str
    outlet: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Disagreement:
    """A fact the articles give differently, with each version and its citations."""

    fact: str
    versions: list[Version]


@dataclass(frozen=True)
class Corroboration:
    """A statement of the answer that several articles of one story report alike.

    `citations[i]` is the marker of `sources[i]`'s telling; `outlets[i]` names that article (its
    outlet, else its title).
    """

    statement: str
    citations: list[int]
    sources: list[str]
    outlets: list[str]

    @property
    def reported_by(self) -> str:
        """ "Reported by both Arab News and Dawn [1][3]" (or "by all of ...")."""
        names = list(dict.fromkeys(self.outlets))
        if len(names) == 2:
            who = f"both {names[0]} and {names[1]}"
        else:
            who = "all of " + ", ".join(names[:-1]) + f" and {names[-1]}"
        return f"Reported by {who} {''.join(f'[{n}]' for n in self.citations)}"


@dataclass
class Answer:
    """What `ask()` returns; `citations[n-1]` is marker `[n]` in `text`."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    # "generated" by a model, or "extracted": the articles' own sentences, quoted (no model, or
    # the closest sentences shown when newsdesk declines)
    mode: str = "generated"
    notice: str | None = None
    disagreements: list[Disagreement] = field(default_factory=list)
    # Statements other articles of the same story also report (their markers are in `text`).
    corroborations: list[Corroboration] = field(default_factory=list)
    # What the model read: what retrieval found, or after a second reading the passages of it
    # that mention what was asked.
    passages: list[StoredPassage] = field(default_factory=list)
    model: str | None = None
    standalone_question: str | None = None
    seconds: float = 0.0
    first_token_seconds: float | None = None
    queue_seconds: float = 0.0  # of `seconds`, waiting for the model while it served others
    article_filter: str | None = None  # the articles searched, when limited: "published since ..."
    # The decision's score (qa/confidence.py): the chance that the model's answer is right, the
    # evidence it was computed from, and that answer's text when it fell short and was not shown.
    confidence: float | None = None
    evidence: dict[str, float] | None = None
    candidate: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


# ----- what ask_stream() yields -----------------------------------------------------------------
@dataclass(frozen=True)
class Passages:
    """The passages the model is about to read, shown before it has answered. A second reading
    (when the model found no answer) comes with its own `Passages`, then its own `Text`."""

    passages: list[StoredPassage]


@dataclass(frozen=True)
class Text:
    """The next piece of the reply's text, as the model writes it (markers already `[n]`)."""

    text: str


@dataclass(frozen=True)
class Final:
    """The checked answer: the last event."""

    answer: Answer


Event = Passages | Text | Final
