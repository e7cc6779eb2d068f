"""Stage 7, presentation: the shown answer, its text with numbered markers and its citations, where
the articles disagree, which other articles of a story say the same, and "as of" when.

In: the claims that passed the checks, with their passages. Out: the `Answer`'s text, citations,
disagreements and corroborations. Other articles' tellings of what is cited are looked up here:
where they differ the answer gives both versions, where they agree they are cited too.
"""

from __future__ import annotations

import re
from dataclasses import replace

from index.dates import day_number
from index.store import PassageFilter, PassageStore, StoredPassage
from qa.answer import Answer, Citation, Corroboration, Disagreement, Version
from qa.checks import shorten
from qa.citations import MIN_SUPPORT, contains_phrase, content_words, support
from qa.disagreements import find_disagreements
from qa.grounding import Attached
from qa.question import Question
from qa.retrieval import other_tellings
from qa.time_answers import as_of, dated, newest_cited_date, reported_update, with_calendar_dates

_MARKERS = re.compile(r"\s*\[\d+\]")
# Where a claim places a marker inline: "⟦i⟧", i the passage's index.
_PLACEHOLDER = re.compile(r"⟦(\d+)⟧")


def present(store: PassageStore, answer: Answer, question: Question, attached: Attached,
            passages: list[StoredPassage], only: PassageFilter | None = None,
            context_ids: frozenset[str] = frozenset()) -> Answer:
    """The answer rendered with its disagreements, looked for also in the other articles'
    tellings of what it cites; a telling that gets cited joins the answer's passages.

    A question about time gets the calendar dates of the relative ones its claims repeat, and
    a question about the latest state of things an "as of" date."""
    standalone = question.standalone
    cited = sorted({i for _, kept in attached for i in kept})
    tellings = other_tellings(store, [passages[i] for i in cited], only)
    everything = passages + tellings
    corroborated = _corroborated(store, attached, everything, standalone)
    if question.about_time:
        attached = [(with_calendar_dates(claim, [everything[i] for i in kept]), kept)
                    for claim, kept in attached]
    answer = _with_disagreements(answer, attached, everything, standalone, context_ids)
    answer.corroborations = _corroborations(store, answer, corroborated, everything)
    quoted = {(c.source, c.start) for c in answer.citations}
    answer.passages = passages + [t for t in tellings if (t.source, t.start) in quoted]
    if not answer.abstained and question.wants_latest:
        answer.text = as_of(answer.text, newest_cited_date([c.published for c in answer.citations]))
    return answer


def _with_disagreements(answer: Answer, attached: Attached, passages: list[StoredPassage],
                        question: str, context_ids: frozenset[str] = frozenset()) -> Answer:
    """Render the answer; where retrieved articles disagree on what was asked, show both.

    Versions are given newest article first. When two articles of a developing story, dated a few
    days apart, give a figure differently in the same context, the fact changed over time: the
    answer opens with the newest version and the date of each.
    """
    claims_text = " ".join(claim for claim, kept in attached if kept)
    found = find_disagreements(passages, question, claims_text) if claims_text else []
    # A sentence read only as context ("more than 70 countries were contacted" beside "dozens
    # attended") is not a version of what was asked, unless the answer cites it.
    cited = {i for _, kept in attached for i in kept}
    found = [d for d in found if all(passages[i].passage_id not in context_ids or i in cited
                                     for i, _ in d.versions)]
    found = [replace(d, versions=tuple(sorted(d.versions, key=lambda v: -day_number(passages[v[0]].published))))
             for d in found]
    opening: Attached = []
    asked = content_words(question)
    for disagreement in found:
        (first, version_a), (second, version_b) = disagreement.versions
        newer, older = passages[first], passages[second]
        # Figures change as a story develops; a difference of wording is not an update.
        if disagreement.fact.startswith("how many") and reported_update(newer, version_a, older, version_b):
            claim = (f"The articles differ on {disagreement.fact}: “{version_a}” as of {dated(newer)} "
                     f"⟦{first}⟧, the newest; earlier, on {dated(older)}, “{version_b}” ⟦{second}⟧.",
                     [first, second])
            # About what was asked, the newest version opens the answer; else it follows it.
            about_asked = (content_words(version_a) | content_words(version_b)) & asked
            (opening if about_asked else attached).append(claim)
            continue
        if contains_phrase(claims_text, version_a) and contains_phrase(claims_text, version_b):
            # The answer already gives both: make sure each version's passage is cited.
            for index, version in disagreement.versions:
                for claim, kept in attached:
                    if kept and contains_phrase(claim, version) and index not in kept:
                        kept.append(index)
            continue
        attached.append((
            f"The articles differ on {disagreement.fact}: one says “{version_a}” ⟦{first}⟧, "
            f"another “{version_b}” ⟦{second}⟧.",
            [first, second],
        ))
    answer.text, answer.citations = _render(opening + attached, passages)
    number_of = {(c.source, c.start): c.number for c in answer.citations}

    def cited(index: int) -> int | None:
        return number_of.get((passages[index].source, passages[index].start))

    # Listed only when every version's passage is cited in the text shown.
    answer.disagreements = [
        Disagreement(
            fact=d.fact,
            versions=[Version(text=text, source=passages[index].source,
                              citations=[cited(index)],  # type: ignore[list-item]
                              outlet=passages[index].outlet, published=passages[index].published)
                      for index, text in d.versions],
        )
        for d in found
        if all(cited(index) is not None for index, _ in d.versions)
    ]
    return answer


def _render(attached: Attached, passages: list[StoredPassage]) -> tuple[str, list[Citation]]:
    """Answer text with markers numbered by first use, and the matching citations.

    A claim may place a marker inline with "⟦i⟧" (i: the passage's index); its other passages'
    markers go at the end of the sentence. A claim without passages is shown without a marker:
    only when the `supported_claims` check, which drops such claims, is switched off.
    """
    number_of: dict[int, int] = {}
    citations: list[Citation] = []

    def marker(index: int) -> str:
        if index not in number_of:
            passage = passages[index]
            number_of[index] = len(citations) + 1
            citations.append(Citation(
                number=number_of[index], source=passage.source, title=passage.title,
                quote=passage.text, start=passage.start, end=passage.end,
                outlet=passage.outlet, published=passage.published, url=passage.url,
            ))
        return f"[{number_of[index]}]"

    sentences = []
    for claim, indexes in attached:
        inline = {int(i) for i in _PLACEHOLDER.findall(claim)}
        body = _PLACEHOLDER.sub(lambda m: marker(int(m.group(1))), claim).rstrip()
        markers = "".join(marker(i) for i in indexes if i not in inline)
        end = body[-1] if body and body[-1] in ".!?,;" and not body.endswith("”") else ""
        body = body[:-1] if end else body
        sentences.append(f"{body} {markers}{end}" if markers else f"{body}{end}")
    # A clause the model went on from ("..., while ...") ends its sentence when what followed
    # was not shown or starts a new sentence.
    for row, sentence in enumerate(sentences):
        following = sentences[row + 1] if row + 1 < len(sentences) else ""
        if sentence.endswith((",", ";")) and not following[:1].islower():
            sentences[row] = sentence[:-1] + "."
    return " ".join(sentences), citations


def _corroborated(store: PassageStore, attached: Attached, passages: list[StoredPassage],
                  question: str) -> Attached:
    """Cite, beside each claim's passage, the other articles of its story that tell it alike.

    A telling corroborates when its article reports the same story, it supports the claim as
    any citation must (its words and figures), and no disagreement is found between the two
    (those go to the disagreements). Returns the claims so corroborated, with all their
    passages; each such telling is also added to the claim's citations.
    """
    stories = store.stories
    records = store.manifest.articles
    claims_text = " ".join(claim for claim, kept in attached if kept)
    corroborated = []
    for claim, kept in attached:
        if not kept:
            continue
        joined = list(kept)
        for index in kept:
            cited = passages[index]
            tellers = set(stories.tellers(cited.source))
            for other, telling in enumerate(passages):
                if (telling.source not in tellers or other in joined
                        or any(passages[j].source == telling.source for j in joined)
                        or _same_file(records, cited.source, telling.source)):
                    continue
                if (support(claim, telling.text, question) >= MIN_SUPPORT
                        and not find_disagreements([cited, telling], question, claims_text)):
                    joined.append(other)
        if len(joined) > len(kept):
            kept.extend(joined[len(kept):])
            corroborated.append((claim, joined))
    return corroborated


def _corroborations(store: PassageStore, answer: Answer, corroborated: Attached,
                    passages: list[StoredPassage]) -> list[Corroboration]:
    number_of = {(c.source, c.start): c.number for c in answer.citations}
    records = store.manifest.articles
    found = []
    for claim, indexes in corroborated:
        numbers_ = [number_of.get((passages[i].source, passages[i].start)) for i in indexes]
        if None in numbers_:
            continue  # not shown in the text after all
        sources = [passages[i].source for i in indexes]
        outlets = [_article_name(records.get(source), passages[i]) for source, i in zip(sources, indexes)]
        found.append(Corroboration(statement=_MARKERS.sub("", _PLACEHOLDER.sub("", claim)).strip(),
                                   citations=numbers_, sources=sources, outlets=outlets))  # type: ignore[arg-type]
    return found


def _same_file(records: dict, source: str, other: str) -> bool:
    """Whether two article ids hold the same file (a copy under another name is no corroboration)."""
    first, second = records.get(source), records.get(other)
    return first is not None and second is not None and first.content_hash == second.content_hash


def _article_name(record, passage: StoredPassage) -> str:
    """How a corroboration names an article: its outlet, else its title."""
    outlet = (record.outlet if record is not None else None) or passage.outlet
    return outlet or f"“{shorten(passage.title, 60)}”"
