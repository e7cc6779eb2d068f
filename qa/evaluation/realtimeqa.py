"""RealTimeQA's weekly news quizzes read from a fetched snapshot (only `past/2024/` and
`past/2025/`): its articles cleaned into news articles, its questions into gold-set lines.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa.citations import comparable, content_words
from qa.evaluation.pool import REALTIMEQA_YEARS, PoolError, PoolPlan

# ----- reading a RealTimeQA snapshot ------------------------------------------------------------
class Snapshot:
    """The `past/2024/` and `past/2025/` files of a RealTimeQA checkout or bare git directory.

    Nothing else of the repository is listed or read.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.git = not (self.path / "past").is_dir() and (self.path / "objects").is_dir()
        if not self.git and not (self.path / "past").is_dir():
            raise PoolError(f"{self.path}: neither a RealTimeQA checkout (with past/) nor its git "
                            "directory")
        self.names = self._list()

    def _git(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "--git-dir", str(self.path), *args], capture_output=True)

    def _list(self) -> list[str]:
        folders = [f"past/{year}" for year in REALTIMEQA_YEARS]
        if self.git:
            listed = self._git("ls-tree", "-r", "--name-only", "HEAD", "--", *folders)
            if listed.returncode:
                raise PoolError(f"{self.path}: {listed.stderr.decode(errors='replace').strip()}")
            return sorted(listed.stdout.decode().split())
        return sorted(p.relative_to(self.path).as_posix()
                      for folder in folders if (self.path / folder).is_dir()
                      for p in (self.path / folder).iterdir() if p.is_file())

    @property
    def commit(self) -> str | None:
        found = (self._git("rev-parse", "HEAD") if self.git else
                 subprocess.run(["git", "-C", str(self.path), "rev-parse", "HEAD"],
                                capture_output=True))
        if found.returncode != 0:
            return None
        return found.stdout.decode().strip() or None

    def present(self) -> set[str]:
        """The listed files whose content the snapshot holds (it leaves out files of 4 MiB or more)."""
        if not self.git:
            return {name for name in self.names if (self.path / name).is_file()}
        request = "".join(f"HEAD:{name}\n" for name in self.names).encode()
        checked = subprocess.run(["git", "--git-dir", str(self.path), "cat-file", "--batch-check"],
                                 input=request, capture_output=True)
        answers = checked.stdout.decode().splitlines()
        return {name for name, answer in zip(self.names, answers) if not answer.endswith("missing")}

    def read(self, name: str) -> bytes | None:
        """A file's bytes, or None when the snapshot lists it without its content (a large file)."""
        if not any(name.startswith(f"past/{year}/") for year in REALTIMEQA_YEARS):
            raise PoolError(f"{name}: outside past/2024/ and past/2025/, not to be read")
        if self.git:
            shown = self._git("cat-file", "blob", f"HEAD:{name}")
            return shown.stdout if shown.returncode == 0 else None
        path = self.path / name
        return path.read_bytes() if path.is_file() else None

    def weeks(self) -> list[str]:
        """Week ids ("20240105") that have a questions file, in order."""
        return sorted({m.group(1) for n in self.names
                       if (m := re.fullmatch(r"past/\d{4}/(\d{8})_qa\.jsonl", n))})

    @staticmethod
    def questions_file(week: str) -> str:
        return f"past/{week[:4]}/{week}_qa.jsonl"

    @staticmethod
    def articles_file(week: str) -> str:
        return f"past/{week[:4]}/{week}_gcs.jsonl"


@dataclass
class Week:
    week: str
    questions: list[dict]
    results: dict[str, list[dict]]  # question_id -> its search results, in rank order
    files: dict[str, str]  # file name -> sha256


def _jsonl(data: bytes, name: str) -> list[dict]:
    try:
        return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    except ValueError as error:
        raise PoolError(f"{name}: not JSON lines ({error})") from None


def read_week(snapshot: Snapshot, week: str) -> Week | None:
    """One week's questions and search results, or None when either file is absent."""
    names = (snapshot.questions_file(week), snapshot.articles_file(week))
    contents = [snapshot.read(name) for name in names]
    if any(content is None for content in contents):
        return None
    questions = _jsonl(contents[0], names[0])
    results = {str(line.get("question_id")): list(line.get("search_result") or [])
               for line in _jsonl(contents[1], names[1])}
    return Week(week, questions, results,
                {name: hashlib.sha256(content).hexdigest() for name, content in zip(names, contents)})


# ----- articles ---------------------------------------------------------------------------------
OUTLETS = {"usatoday.com": "USA Today", "cnn.com": "CNN", "theweek.co.uk": "The Week",
           "theweek.com": "The Week"}
# Whole lines that are page furniture, not the story: newsletter and puzzle teasers, subscription
# boxes, "follow me" lines; a short line with an e-mail address is a byline or a tip line.
_FURNITURE = re.compile(
    r"^(?:Need a break\?.*|Subscribe to .*|Sign up (?:for|here)\b.*|What's everyone talking about\?.*"
    r"|Get CNN\b.*(?:newsletter|Sign up).*|Follow .{1,80} on (?:Twitter|X|Instagram|Threads)\b.*)$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")


def clean_body(text: str) -> str:
    """The story's text: furniture lines dropped, spaces trimmed, blank-line runs made one."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.strip()
        if _FURNITURE.match(line) or (_EMAIL.search(line) and len(line) < 300):
            continue
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _url_key(url: str) -> str:
    """The URL without scheme, `www.`, fragment or trailing slash: one key for one article."""
    key = re.sub(r"^[a-z]+://", "", url.strip(), flags=re.IGNORECASE).split("#")[0]
    host, _, path = key.partition("/")
    return f"{host.lower().removeprefix('www.')}/{path}".rstrip("/")


def _slug(text: str, limit: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")


def _published(value: object) -> str | None:
    match = re.fullmatch(r"(\d{4})[/-](\d{2})[/-](\d{2})", str(value or "").strip())
    return "-".join(match.groups()) if match else None


@dataclass(frozen=True)
class NewsArticle:
    name: str  # file stem, ASCII, no separators
    url: str
    outlet: str
    published: str | None
    title: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.title}\n\n{self.body}\n"

    @property
    def sidecar(self) -> str:
        fields = {"url": self.url, "outlet": self.outlet, "published": self.published,
                  "title": self.title}
        return json.dumps(fields, ensure_ascii=False, indent=2) + "\n"


def news_article(result: dict) -> NewsArticle | None:
    """A search result as an article, or None when it has no text."""
    body = clean_body(str(result.get("text") or ""))
    url = str(result.get("url") or "").strip()
    if not body or not url:
        return None
    host = _url_key(url).split("/")[0]
    outlet = OUTLETS.get(host, host)
    title = re.sub(r"\s+", " ", str(result.get("title") or "")).strip()
    title = re.sub(r"\s*(?:\.\.\.|…)$", "", title)  # the search engine's cut
    title = re.sub(r"\s+[|]\s+[^|]{1,30}$", "", title) or body.split("\n")[0][:120]  # "| CNN"
    published = _published(result.get("publish_date"))
    digest = hashlib.sha256(_url_key(url).encode()).hexdigest()[:10]
    name = f"{_slug(host, 30)}_{published or 'undated'}_{_slug(title, 50) or 'article'}_{digest}"
    return NewsArticle(name, url, outlet, published, title, body)


# ----- news sets --------------------------------------------------------------------------------
@dataclass
class NewsSet:
    name: str
    weeks: list[Week] = field(default_factory=list)
    articles: dict[str, NewsArticle] = field(default_factory=dict)  # url key -> article
    texts: set[str] = field(default_factory=set)  # sha256 of bodies already kept
    question_count: int = 0

    def add_week(self, week: Week) -> None:
        """Adds a week's questions and its articles, skipping any already kept (URL or text)."""
        self.weeks.append(week)
        self.question_count += len(week.questions)
        for question in week.questions:
            for result in week.results.get(str(question.get("question_id")), []):
                key = _url_key(str(result.get("url") or ""))
                if key in self.articles:
                    continue
                article = news_article(result)
                if article is None:
                    continue
                body_hash = hashlib.sha256(article.body.encode()).hexdigest()
                if body_hash in self.texts:
                    continue
                self.texts.add(body_hash)
                self.articles[key] = article


def _question_text(question: dict) -> str:
    """The quiz's question; one that asks "which of the following" gets its choices, or it could
    not be answered at all."""
    sentence = re.sub(r"\s+", " ", str(question.get("question_sentence") or "")).strip()
    choices = [str(c).strip() for c in question.get("choices") or [] if str(c).strip()]
    if not choices or not re.search(r"\bthe following\b", sentence, re.IGNORECASE):
        return sentence
    joiner = "; " if any("," in c for c in choices) else ", "
    listed = joiner.join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]
    if sentence.endswith("?"):
        return f"{sentence[:-1].rstrip()}: {listed}?"
    return f"{sentence} ({listed})"


def _accepted(question: dict) -> list[str]:
    choices = list(question.get("choices") or [])
    answers = []
    for index in question.get("answer") or []:
        try:
            answers.append(str(choices[int(index)]).strip())
        except (ValueError, IndexError):
            continue
    return list(dict.fromkeys(a for a in answers if a))


# An article answers a question when it gives the accepted answer and at least this share of the
# question's words, weighted by rarity: "Kenya" in a story about something else does not count.
ANSWERING_COVERAGE = 0.5


def news_questions(news: NewsSet) -> list[dict]:
    """The set's questions in the gold-set format.

    Answerable when an article of the set answers it: it holds an accepted answer (normalised, as
    whole words, as the scorer finds it) and ANSWERING_COVERAGE of the question's content words,
    each weighted by its rarity in the set (log((N+1)/(df+1)); a word no article has weighs most).
    `sources` are those articles. Otherwise unanswerable, answers []: newsdesk should decline.
    `answer_in_set` says whether the answer occurs in any article at all, `accepted` is the quiz's
    correct choice either way.
    """
    texts = {f"{a.name}.txt": a.text for a in news.articles.values()}
    searchable = {name: comparable(text) for name, text in texts.items()}
    words = {name: content_words(text) for name, text in texts.items()}
    frequency = Counter(word for found in words.values() for word in found)
    lines = []
    for week in news.weeks:
        for question in week.questions:
            answers = _accepted(question)
            needles = [n for a in answers if (n := comparable(a).strip())]
            holding = [name for name, text in searchable.items()
                       if any(f" {n} " in text for n in needles)]
            asked = content_words(str(question.get("question_sentence") or "")) - set().union(
                set(), *(content_words(a) for a in answers))
            weight = {w: math.log((len(texts) + 1) / (frequency[w] + 1)) for w in asked}
            total = sum(weight.values())
            sources = sorted(name for name in holding
                             if not total or sum(weight[w] for w in asked & words[name])
                             >= ANSWERING_COVERAGE * total)
            lines.append({
                "question": _question_text(question),
                "answers": answers if sources else [],
                "answerable": bool(sources),
                "sources": sources,
                "kind": "factoid" if sources else "unanswerable",
                "id": str(question.get("question_id")),
                "date": _published(question.get("question_date")),
                "choices": [str(c) for c in question.get("choices") or []],
                "accepted": answers,
                "answer_in_set": bool(holding),
            })
    return lines


def plan_news_sets(snapshot: Snapshot, plan: PoolPlan,
                   progress: Callable[[str], None] = print) -> tuple[list[NewsSet], list[str]]:
    """The news sets of the plan's windows, and the weeks missing from the snapshot."""
    weeks = snapshot.weeks()
    present = snapshot.present()
    missing = [w for w in weeks if snapshot.questions_file(w) not in present
               or snapshot.articles_file(w) not in present]
    used: set[str] = set()
    sets = []
    for name, start in plan.windows:
        if start not in weeks:
            raise PoolError(f"{name}: week {start} is not in the snapshot")
        news = NewsSet(name)
        for week_id in weeks[weeks.index(start):]:
            if week_id in used:
                raise PoolError(f"{name}: reaches week {week_id}, already in another set")
            week = read_week(snapshot, week_id)
            if week is None:
                progress(f"  {name}: week {week_id} is missing from the snapshot, skipped")
                continue
            used.add(week_id)
            news.add_week(week)
            if (len(news.weeks) >= plan.min_weeks and news.question_count >= plan.min_questions
                    and len(news.articles) >= plan.min_articles):
                break
        else:
            raise PoolError(f"{name}: the snapshot ends before the set is large enough")
        sets.append(news)
    return sets, missing
