"""Tying an answer's claims to the passages that support them, and checking that they do.

A model's reply is split into claims (sentences); each claim keeps only the passages whose words
carry the claim's new information (what the question did not already say). A claim the model left
uncited, or cited wrongly, is given the retrieved passage that supports it best, if one does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from os.path import commonprefix  # of strings, not only paths

from index.english import (ANSWER_TYPE_WORDS, MONTH_WORDS, PEOPLE_ENDINGS, PEOPLE_ROOT_ENDINGS,
                           PLACE_ROOT_ENDINGS, POINTING_BACK, SCALES, SPELLED_FIGURES, STOPWORDS)
from index.passages import sentence_spans
from qa.thresholds import MIN_ENGLISH_SHARE, MIN_SUPPORT

MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")

@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer, installed with the BM25 index

    return Stemmer.Stemmer("english")


def normalise(text: str) -> str:
    """Lower-case, unify quotes and dashes, drop accents: the form words are compared in."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return text.lower()


def comparable(text: str) -> str:
    """Normalised words separated by single spaces, padded: for whole-word containment."""
    text = normalise(re.sub(r"\[\d+\]", " ", text))
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,200 -> 1200
    return " " + " ".join(re.findall(r"[a-z0-9]+", text)) + " "


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether `phrase` appears in `text` as whole words, after normalising both."""
    needle = comparable(phrase).strip()
    return bool(needle) and f" {needle} " in comparable(text)


def content_words(text: str) -> set[str]:
    """Stemmed content words and numbers of `text` (stop words left out)."""
    words = re.findall(r"[a-z0-9]+(?:[.,][0-9]+)*", normalise(text))
    kept = [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return set(_stemmer().stemWords(kept))


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer and the passage numbers (1-based, in the prompt) it cites."""

    text: str
    cited: tuple[int, ...]


# The prompt labels each passage's article with a letter, "(A)" or "(A, published 2025-12-19)";
# a small model sometimes copies it ("Anna Berg [B] [1]"). A reader never sees those labels.
_LABEL = r"(?:article\s+|passage\s+)?[A-Z](?:\s*,\s*published\s+[0-9-]+)?"
_NUMBER_LIST = r"\d+(?:\s*(?:,|;|and|&|-|–)\s*\d+)*"
_BRACKETED = re.compile(
    rf"\s*\[\s*(?:{_LABEL}\s*[,;]?\s*)*(?P<square>{_NUMBER_LIST})?\s*\]"
    rf"|\s*\(\s*(?:{_LABEL}\s*[,;]?\s*)*(?P<round>{_NUMBER_LIST})?\s*\)")
# Markers listed on after a bracket, as small models write them: "[1], 2, 3 and 4."
_LISTED_ON = re.compile(r"\]((?:\s*(?:,|and|&)\s*\d+)+)(?=\s*(?:[.;:!?\[]|$))")


def canonical_markers(reply: str, passage_count: int) -> str:
    """The reply with every citation written `[n]` and no article label left: "[1, 2]", "(1)",
    "[1], 2 and 3", "[B] [1]" and "(A, 2)" become "[1][2]", "[1]", "[1][2][3]", "[1]", "[2]".

    Only numbers of passages the model was given count as markers: "(2025)" stays a year.
    """
    def markers(numbers_text: str) -> list[int] | None:
        found: list[int] = []
        for piece in re.split(r"\s*(?:,|;|and|&)\s*", numbers_text.strip()):
            # One number or one range ("1-3"); anything else, a date ("2024-03-04"), is no marker.
            bounds = re.fullmatch(r"(\d+)(?:\s*[-–]\s*(\d+))?", piece)
            if bounds is None:
                return None
            low, high = int(bounds.group(1)), int(bounds.group(2) or bounds.group(1))
            if high < low:
                return None
            span = range(low, high + 1)
            if not all(1 <= n <= passage_count for n in span) or len(span) > passage_count:
                return None
            found.extend(span)
        return found

    def rewritten(match: re.Match) -> str:
        whole = match.group(0)
        numbers_text = match.group("square") or match.group("round")
        has_label = bool(re.search(r"[A-Za-z]", whole))
        if numbers_text is None:
            return "" if has_label else whole
        numbers_found = markers(numbers_text)
        if numbers_found is None:
            return whole
        return (" " if whole[0].isspace() else "") + "".join(f"[{n}]" for n in numbers_found)

    def listed_on(match: re.Match) -> str:
        numbers_found = markers(re.sub(r"^\s*(?:,|and|&)\s*", "", match.group(1)))
        if numbers_found is None:
            return match.group(0)
        return "]" + "".join(f"[{n}]" for n in numbers_found)

    text = _BRACKETED.sub(rewritten, reply)
    text = _LISTED_ON.sub(listed_on, text)
    text = re.sub(r"(\[\d+\])\s*(?:,|;|and|&)?\s*(?=\[\d+\])", r"\1", text)  # "[1], [2] and [3]"
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", text).strip()


def readable_prefix(reply: str, passage_count: int) -> str:
    """What of a reply still being generated can be shown: its text with markers made canonical
    and labels gone, up to a bracket not yet closed (it may turn out to be a label)."""
    opened = max(reply.rfind("["), reply.rfind("("))
    if opened > max(reply.rfind("]"), reply.rfind(")")):
        reply = reply[:opened]
    elif re.search(r"\](?:\s|,|&|\d|\ban?d?\b)+$", reply):  # may go on "[1], 2 and 3"
        reply = reply[:reply.rfind("]") + 1]
    return canonical_markers(reply, passage_count)


def split_claims(reply: str) -> list[Claim]:
    """The reply's sentences with the markers each carries (markers stripped from the text)."""
    # A marker placed after the full stop ("... Washington. [1]") belongs to that sentence.
    reply = re.sub(r"([.!?])\s*((?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+)", r" \2\1 ", reply.strip())
    # Small models' tokenizers split a figure after its comma: "30, 000" is 30,000.
    reply = re.sub(r"(?<![\d,])(\d{1,3}), (\d{3})(?![\d,])", r"\1,\2", reply)
    claims = []
    for start, end in sentence_spans(reply):
        for piece in _clauses(reply[start:end]):
            numbers: list[int] = []
            for match in MARKER.finditer(piece):
                numbers.extend(int(n) for n in re.split(r"\s*[,;]\s*", match.group(1)))
            text = MARKER.sub("", piece)
            text = re.sub(r"\s+([.,;:!?])", r"\1", text)
            text = re.sub(r"\s{2,}", " ", text).strip()
            if text:
                claims.append(Claim(text, tuple(dict.fromkeys(numbers))))
    return claims


# Markers closing a clause that the sentence goes on from: "... troops [1], while the US ... [2]."
_CLAUSE_END = re.compile(r"(?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+[,;]\s+")


def _clauses(sentence: str) -> list[str]:
    """A sentence cut after each of its markers that a further cited clause follows.

    Each clause is then checked against the passages its own markers name: judged whole, a
    sentence joining two passages' facts is half unsupported by each.
    """
    clauses = []
    start = 0
    for match in _CLAUSE_END.finditer(sentence):
        if MARKER.search(sentence, match.end()):
            clauses.append(sentence[start:match.end()])
            start = match.end()
    clauses.append(sentence[start:])
    return clauses


def numbers(text: str) -> set[str]:
    """The figures in a text ("1,200" and "1200" alike)."""
    return {n.replace(",", "") for n in re.findall(r"\d+(?:[.,]\d+)*", text)}


def figures(text: str) -> set[str]:
    """The figures in a text, written in digits or as counts in words ("two" and "2" alike)."""
    words = re.findall(r"[a-z]+(?:-[a-z]+)*", text.lower())
    spelled = {SPELLED_FIGURES[word] for i, word in enumerate(words)
               if word in SPELLED_FIGURES and not (i and words[i - 1] in POINTING_BACK)
               and not (i + 1 < len(words) and words[i + 1] in SCALES)}
    return numbers(text) | spelled


def support(claim: str, passage: str, question: str) -> float:
    """Share of the claim's new content words (not already in the question) found in the passage.

    A claim with a figure the passage does not give is not supported, however many words match.
    """
    if not figures(claim) - figures(question) <= figures(passage):
        return 0.0
    claim_words = content_words(claim)
    new_words = claim_words - content_words(question)
    if not new_words:
        new_words = claim_words
    if not new_words:
        return 0.0
    passage_words = content_words(passage)
    return len(new_words & passage_words) / len(new_words)


def _shares_news(claim: str, passage: str, question: str) -> bool:
    """Whether the passage gives some of the claim's new words or figures."""
    new_words = content_words(claim) - content_words(question)
    return bool(new_words & content_words(passage))


def attach_citations(
    claims: list[Claim], passages: list[str], question: str
) -> list[tuple[str, list[int]]]:
    """For each claim, the 0-based indexes of the passages that support it.

    A cited passage is kept when it supports the claim; a claim left with none gets the best
    supporting retrieved passage, if any reaches MIN_SUPPORT.
    """
    result = []
    for claim in claims:
        scores = [support(claim.text, passage, question) for passage in passages]
        cited = [n - 1 for n in claim.cited if 1 <= n <= len(passages)]
        kept = [i for i in cited if scores[i] >= MIN_SUPPORT]
        if not kept and len(cited) > 1:
            # A claim may join what neighbouring sentences say ("70 countries were contacted, and
            # 19 are ready"): together they support it, each citing what it gives.
            joined = " ".join(passages[i] for i in cited)
            if support(claim.text, joined, question) >= MIN_SUPPORT:
                kept = [i for i in cited if _shares_news(claim.text, passages[i], question)]
        if not kept and scores:
            best = max(range(len(passages)), key=scores.__getitem__)
            if scores[best] >= MIN_SUPPORT:
                kept = [best]
        result.append((claim.text, kept))
    return result


def question_coverage(
    question: str,
    evidence: list[str],
    rarity: dict[str, float],
    related: Callable[[list[str], list[str]], set[str]] | None = None,
) -> tuple[float, list[str]]:
    """How much of what the question is about the evidence mentions, weighted by word rarity.

    Returns the share (0 to 1) and the question's words the evidence lacks. A reply that cites
    passages about something else ("What did Egypt's foreign minister say?" answered from a
    sentence about Pakistan's Foreign Ministry) covers little of its question, however well the
    passages support the reply's own words. Names count double: a passage that has the question's
    names but other verbs is usually a paraphrase ("attended a conference" / "participated in a
    meeting"), one without them is about something else. `related(words, evidence_words)` may
    accept some missing common words as said otherwise ("problems" / "issues").
    """
    asked = question_words(question)
    if not asked:
        return 1.0, []
    present = set().union(*(content_words(text) for text in evidence)) if evidence else set()
    names = {stem for stem, word in asked.items() if word[:1].isupper()}
    for leading, head in _name_heads(question):
        # "Peace" of "Peace Council" is not found in "the peace plan": a name of several words is
        # mentioned when its last word is ("Rubio" for "Marco Rubio"), not by its first ones alone.
        if head not in present:
            present -= leading
    weight = {stem: max(rarity.get(stem, 1.0), 0.1) * (2 if stem in names else 1) for stem in asked}
    missing = {stem: word for stem, word in asked.items()
               if stem not in present and not (stem in names and _named_otherwise(word, evidence))}
    common = [word for stem, word in missing.items() if stem not in names]
    if related and common and evidence:
        evidence_words = sorted({w for text in evidence for w in re.findall(r"[a-z]{3,}", normalise(text))
                                 if w not in STOPWORDS})
        said_otherwise = related(common, evidence_words)
        missing = {stem: word for stem, word in missing.items() if word not in said_otherwise}
    covered = sum(weight[stem] for stem in asked if stem not in missing)
    return covered / sum(weight.values()), list(missing.values())


def unknown_names(question: str, articles: list[str]) -> list[str]:
    """The names and figures of the question that the articles never mention, in any sentence.

    A question about "the Turks" or "the 11th century" answered from an article that names
    neither is about something that article does not report, however many of the question's
    other words its sentence shares ("Who attacked Dyrrachium in the 11th century?" read beside
    "...a third attack in 1185"). A name may be given as its people's adjective ("Israel",
    "Israeli forces") or its initials ("UN", "the United Nations").
    """
    if not all(map(_reads_as_english, [question, *articles])):
        return []  # a name is translated: "State Department" is "département d'État"
    shouted = question.isupper()  # every word capitalised: none is known to be a name
    asked = {stem: word for stem, word in question_words(question).items()
             if (word[:1].isupper() and not shouted) or any(ch.isdigit() for ch in word)}
    if not asked:
        return []
    said = set().union(*(content_words(text) for text in articles))
    initialled = _given_by_initials(question, articles)
    return [word for stem, word in asked.items() if stem not in said and word not in initialled
            and not _named_otherwise(word, articles)]


def _given_by_initials(text: str, articles: list[str]) -> set[str]:
    """The words of `text`'s names of several words that the articles give by their initials:
    "United States" as "US" or "U.S.", "International Stabilization Force" as "ISF"."""
    given: set[str] = set()
    for match in re.finditer(r"(?<![\w'’])[A-Z][\w-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w-]*)+", text):
        words = [word for word in match.group().split()
                 if word[:1].isupper() and word not in ("The", "A", "An")]
        dotted = r"\.?".join(word[0] for word in words)
        # Case kept: "US" is the country, "us" is not.
        if any(re.search(rf"(?<![\w.]){dotted}\.?(?!\w)", article) for article in articles):
            given.update(words)
    return given


def _reads_as_english(text: str) -> bool:
    """Whether a text is English by its share of English function words (about 0.4 in English
    prose and English questions, under 0.1 in French or Urdu)."""
    words = re.findall(r"\w+", normalise(text))
    return not words or sum(word in STOPWORDS for word in words) / len(words) >= MIN_ENGLISH_SHARE


# A word, or a figure with its decimals and thousands ("magnitude-7.1", "30,000"), but not "29,2025"
# or "Dec,2025" run together: a figure's tail follows a digit, a thousands comma three digits.
_WORD = re.compile(r"[\w'’-]*\d(?:\.\d+|,\d{3}(?!\d))*[\w'’-]*|[\w'’-]+")


def adds_to(question: str, claim: str) -> bool:
    """Whether a claim says something its question did not: a word or figure beyond the
    question's, other than a form of one of its names ("held in Qatar" for "which Qatari city")."""
    asked = content_words(question)
    return any(content_words(word) - asked and not _named_otherwise(word, [question])
               for word in _WORD.findall(claim))


def _named_otherwise(name: str, texts: list[str]) -> bool:
    """Whether the texts give `name` in another form: its people's adjective ("Israeli" for
    "Israel"), its initials spelled out ("United Nations" for "UN"), a month abbreviated."""
    lower = normalise(name).removesuffix("s")
    # Unstemmed: the stemmer cuts "Israeli" to "isra" and "Japanese" to "japanes".
    if any(_same_people(lower, word) for text in texts
           for word in re.findall(rf"\b{re.escape(lower[:4])}[a-z]*", normalise(text))):
        return True
    if lower in MONTH_WORDS and any(re.search(rf"\b{lower[:3]}\b", normalise(text)) for text in texts):
        return True  # "Dec. 19" for "December 19"
    return name.isupper() and len(name) > 1 and any(_initials(name).search(text) for text in texts)


def _same_people(a: str, b: str) -> bool:
    """Whether one word is a place and the other its people's adjective: "israel" and "israeli",
    "turkiye" and "turkish", "china" and "chinese"; not "chile" and "chili", "indiana" and
    "indian", "france" and "francis", "state" and "static"."""
    shared = len(commonprefix([a, b]))
    for place, people in ((a, b), (b, a)):
        if len(place) >= 4 and people[len(place):] in PEOPLE_ENDINGS and people.startswith(place):
            return True
        if any(place[root:] in PLACE_ROOT_ENDINGS and people[root:] in PEOPLE_ROOT_ENDINGS
               for root in range(4, shared + 1)):
            return True
    return False


def _initials(acronym: str) -> re.Pattern[str]:
    """Words spelling out `acronym` ("UN": "United Nations", "U.N."; "ISF": "International
    Stabilization Force"), small joining words allowed between them ("Bank of England")."""
    spelled = r"[\w'-]*\s+(?:(?:of|for|the|and|on)\s+)?".join(acronym)
    dotted = r"\.?".join(acronym)
    return re.compile(rf"\b(?:{spelled}[\w'-]*|{dotted}\.?)(?![\w])")


def _name_heads(question: str) -> list[tuple[set[str], str]]:
    """For each name of several capitalised words in the question ("Peace Council", "Marco
    Rubio"), the stems of its leading words and of its last word. A possessive ends a name:
    "Pakistan's Foreign Ministry" is two."""
    found = []
    for match in re.finditer(r"(?<![\w'’])[A-Z][\w-]*(?:\s+[A-Z][\w-]*)+(?![\w'’])", question):
        words = match.group().split()[1 if match.start() == 0 else 0 :]  # "Did", "Which": no name
        stems = [stem for word in words for stem in sorted(content_words(word))[:1]]
        if len(stems) > 1:
            found.append((set(stems[:-1]) - {stems[-1]}, stems[-1]))
    return found


def question_words(question: str) -> dict[str, str]:
    """{stem: the word as asked} for the question's content words, answer-type words left out.

    The question's first word keeps its capital only if it is not a question word.
    """
    found: dict[str, str] = {}
    # A figure keeps its decimals and thousands as content_words reads them: "magnitude-7.1" and
    # "$4.5 billion" ask about 7.1 and 4.5, which an article's "7.1" and "4.5" give, not 7, 1, 4, 5.
    for position, word in enumerate(_WORD.findall(question)):
        word = word.strip("'’-")
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if position == 0:
            word = word.lower()
        for stem in content_words(word):
            if stem not in answer_type_words() and stem not in found:
                found[stem] = word
    return found


@lru_cache(maxsize=1)
def answer_type_words() -> frozenset[str]:
    """Words that say what kind of answer is wanted ("which country", "on what date"), not what
    the question is about: a passage that answers need not repeat them."""
    return frozenset(content_words(ANSWER_TYPE_WORDS))
