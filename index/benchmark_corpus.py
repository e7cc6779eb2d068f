"""A newsroom-sized corpus for the benchmark, made of the seed articles' own sentences.

Each generated article recombines real seed sentences, shuffled, with names, places and figures
varied so that no two articles are alike; the same size and seed always give the same files.
"""

from __future__ import annotations

import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from index.articles import ArticleError, find_article_files, read_article
from index.passages import split_passages

DEFAULT_SEED = 2026
# ~25 sentences of ~28 words: a 700-word article, in the range of a wire story.
SENTENCES_PER_ARTICLE = (15, 35)
SENTENCES_PER_PARAGRAPH = (1, 3)
MAX_HEADLINE_CHARS = 100

# Names the seed articles use, by kind, and what a generated article may say instead. People are
# (full name, surname) pairs so that "Marco Rubio ... Rubio" stays one person within an article.
SEED_PEOPLE = (("Marco Rubio", "Rubio"), ("Steve Witkoff", "Witkoff"), ("Donald Trump", "Trump"),
               ("Khalil Al-Hayya", "Al-Hayya"), ("Tahir Andrabi", "Andrabi"))
FIRST_NAMES = ("Amina", "Daniel", "Elena", "Farid", "Grace", "Hiroshi", "Ingrid", "Jamal", "Katarzyna",
               "Luis", "Mariam", "Nikolai", "Olivia", "Pedro", "Rania", "Samuel", "Tamar", "Umar",
               "Valentina", "Yusuf", "Zainab", "Bilal", "Chiara", "Dmitri", "Esther", "Gustavo",
               "Idris", "Joanna", "Kofi", "Leila", "Mateo", "Nadia", "Priya", "Rafael")
SURNAMES = ("Okafor", "Lindqvist", "Haddad", "Moreau", "Tanaka", "Kowalski", "Mensah", "Castillo",
            "Novak", "Rahman", "Petrov", "Ferreira", "Nakamura", "Abadi", "Schneider", "Osei", "Varga",
            "Quintero", "Demir", "Kaur", "Yilmaz", "Brennan", "Adeyemi", "Lombardi", "Horvat",
            "Nasser", "Eriksen", "Solano", "Karimi", "Dubois", "Jovanovic", "Fonseca", "Achterberg",
            "Zamora")
PLACES = {
    "country": (("Pakistan", "Qatar", "Egypt", "Turkiye", "Israel"),
                ("Indonesia", "Bangladesh", "Malaysia", "Morocco", "Kenya", "Nigeria", "Brazil",
                 "Argentina", "Norway", "Vietnam", "Senegal", "Ghana", "Kazakhstan", "Azerbaijan",
                 "Uruguay", "Tunisia", "Oman", "Kuwait", "Ethiopia", "Rwanda", "Chile", "Peru",
                 "Finland", "Ireland", "Portugal", "Greece", "Romania", "Thailand")),
    "city": (("Islamabad", "Washington", "Miami"),
             ("Nairobi", "Jakarta", "Dhaka", "Rabat", "Lagos", "Brasilia", "Oslo", "Hanoi", "Dakar",
              "Accra", "Astana", "Baku", "Montevideo", "Tunis", "Muscat", "Geneva", "Vienna",
              "Lisbon", "Athens", "Bangkok", "Manila", "Lima", "Dublin", "Helsinki", "Kigali")),
    "region": (("Gaza",),
               ("Darfur", "Tigray", "Kivu", "Idlib", "Rakhine", "Ituri", "Kordofan", "Abyei",
                "Marib", "Kachin", "Cabo Delgado", "Sool")),
    "group": (("Hamas",),
              ("Nour Brigade", "Sahm Movement", "Kaval Front", "Tariq Alliance", "Jabal Front",
               "Wadi Coalition", "Ardh Council", "Sirr Movement")),
}
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class SeedSentences:
    """The seed articles' sentences: headline-like lines, and the sentences of their bodies."""

    headlines: list[str]
    sentences: list[str]
    files: list[Path]


def seed_sentences(folder: Path) -> SeedSentences:
    """Every passage newsdesk indexes from the articles in `folder`, as the generator's material."""
    headlines: list[str] = []
    sentences: list[str] = []
    files = find_article_files(folder)
    for path in files:
        try:
            article = read_article(path, path.name, max_bytes=50_000_000)
        except ArticleError:
            continue
        for passage in split_passages(article):
            text = " ".join(passage.text.split())
            # A short line without closing punctuation is a headline or a standfirst.
            is_headline = text[-1] not in ".!?”\"…" and len(text) <= MAX_HEADLINE_CHARS
            (headlines if is_headline else sentences).append(text)
    if not sentences:
        raise ArticleError(f"No article sentences in {folder} to build a benchmark corpus from")
    return SeedSentences(headlines or sentences[:1], sentences, files)


def generate_corpus(seeds_folder: Path, target: Path, articles: int, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write `articles` article files into `target` (emptied first): the seed articles themselves,
    then generated ones. Article i is the same whatever the size, so corpora nest."""
    material = seed_sentences(seeds_folder)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    written = []
    for path in material.files[:articles]:
        copy = target / path.name
        shutil.copyfile(path, copy)
        written.append(copy)
    for number in range(articles - len(written)):
        path = target / f"bench_{number:05d}.txt"
        path.write_text(generated_article(material, number, seed), encoding="utf-8")
        written.append(path)
    return written


def generated_article(material: SeedSentences, number: int, seed: int = DEFAULT_SEED) -> str:
    """Article `number`: a headline and paragraphs of shuffled seed sentences, names and figures
    varied consistently within the article."""
    rng = random.Random(f"{seed}:{number}")  # a string seed is hashed the same in every process
    replace = _substitution(rng)
    count = rng.randint(*SENTENCES_PER_ARTICLE)
    pool = material.sentences
    chosen = rng.sample(pool, count) if count <= len(pool) else rng.choices(pool, k=count)
    paragraphs = []
    while chosen:
        size = rng.randint(*SENTENCES_PER_PARAGRAPH)
        paragraphs.append(" ".join(replace(s) for s in chosen[:size]))
        chosen = chosen[size:]
    headline = replace(rng.choice(material.headlines))
    return "\n\n".join([headline, *paragraphs]) + "\n"


def _substitution(rng: random.Random):
    """A function that rewrites a seed sentence with this article's names and figures."""
    mapping: dict[str, str] = {}
    firsts = rng.sample(FIRST_NAMES, len(SEED_PEOPLE))
    lasts = rng.sample(SURNAMES, len(SEED_PEOPLE))
    for (full, surname), first, last in zip(SEED_PEOPLE, firsts, lasts):
        mapping[full] = f"{first} {last}"
        mapping[surname] = last
    for seen, alternatives in PLACES.values():
        for name, other in zip(seen, rng.sample(alternatives, len(seen))):
            mapping[name] = other
    mapping.update({name.upper(): other.upper() for name, other in list(mapping.items())})
    names = re.compile(_alternation(mapping))

    def figure(match: re.Match) -> str:
        value = int(match.group(0))
        if 1900 <= value <= 2100:
            return str(rng.randint(2015, 2026))
        if value <= 31:  # days of the month and small counts
            return str(rng.randint(2, 31))
        return str(rng.randint(value // 2, value * 2))

    def replace(sentence: str) -> str:
        return _NUMBER.sub(figure, names.sub(lambda m: mapping[m.group(0)], sentence))

    return replace


def _alternation(names) -> str:
    # Longest first, so "Marco Rubio" is one name rather than "Marco" and "Rubio".
    ordered = sorted(set(names), key=len, reverse=True)
    return r"(?<!\w)(?:" + "|".join(re.escape(n) for n in ordered) + r")(?!\w)"


def _template_pattern() -> re.Pattern:
    people = [name for pair in SEED_PEOPLE for name in pair] + list(SURNAMES)
    people += [f"{first} {last}" for first in FIRST_NAMES for last in SURNAMES]
    kinds = {"person": people} | {kind: [*seen, *other] for kind, (seen, other) in PLACES.items()}
    groups = []
    for kind, names in kinds.items():
        names = [*names, *(n.upper() for n in names)]
        groups.append(f"(?P<{kind}>{_alternation(names)})")
    return re.compile("|".join(groups))


_TEMPLATE = None


def sentence_template(text: str) -> str:
    """`text` with every name a placeholder of its kind and every figure '#': a generated sentence
    and the seed sentence it was made from have the same template."""
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = _template_pattern()
    return _NUMBER.sub("#", _TEMPLATE.sub(lambda m: f"<{m.lastgroup}>", text))
