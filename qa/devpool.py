"""The development pool (issue 19): question sets to tune on (`fit`) and to report on (`check`).

Built from RealTimeQA's weekly news quizzes (read from a fetched snapshot; the texts are written
under the data folder, never committed), the repository's SQuAD sample and seed held-out sets 1-3.
The split is made once, by a fixed seed, and written down in `qa/data/pool.json` with a sha256 of
every built file, so a rebuild from a clean clone can be checked against it.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from index.settings import Settings
from qa.citations import comparable, content_words
from qa.evaluation import GoldQuestion, load_dataset, load_squad

PARTS = ("fit", "check")
PART_PURPOSE = {
    "fit": "tune on it: prompts, retrieval, thresholds, examples",
    "check": "run it to report; never read its questions or answers, never choose by it",
}
# The years of RealTimeQA this pool may read; everything else in that repository is reserved.
REALTIMEQA_YEARS = ("2024", "2025")
REALTIMEQA_REPOSITORY = "realtimeqa/realtimeqa_public"
# Where each news set starts: the first week of January and of July of each year (January 2025
# from its first full-size week: the 3 January quiz has 10 questions, the others 20). A set then
# takes the following weeks until it has MIN_WEEKS weeks, MIN_QUESTIONS and MIN_ARTICLES.
WINDOWS = (
    ("rtqa-2024-01", "20240105"),
    ("rtqa-2024-07", "20240705"),
    ("rtqa-2025-01", "20250110"),
    ("rtqa-2025-07", "20250704"),
)
SEED = 19  # the number; fixed once, never to be changed to get a "better" split
SEED_HELDOUT_FILES = ("heldout.jsonl", "heldout2.jsonl", "heldout3.jsonl")  # not heldout4: the gate
SQUAD_FILE = "squad/dev-v2.0-sample.json"
POOL_FOLDER = "pool"


class PoolError(ValueError):
    """The pool cannot be built or read as asked; the message says why."""


@dataclass(frozen=True)
class PoolPlan:
    """What the builder makes: its windows, how large a news set must be, and the split's seed."""

    windows: tuple[tuple[str, str], ...] = WINDOWS
    min_weeks: int = 4
    min_questions: int = 100
    min_articles: int = 600
    seed: int = SEED

    def as_dict(self) -> dict:
        return {"windows": [list(w) for w in self.windows], "min_weeks": self.min_weeks,
                "min_questions": self.min_questions, "min_articles": self.min_articles,
                "seed": self.seed}


def repository_data() -> Path:
    """The repository's `qa/data` folder (gold, held-out and SQuAD sets, and the manifest)."""
    return Path(str(files("qa").joinpath("data")))


def default_manifest() -> Path:
    return repository_data() / "pool.json"


def repository_seeds() -> Path:
    return Path(__file__).resolve().parent.parent / "seeds"


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


# ----- the split --------------------------------------------------------------------------------
def split_half(units: list, seed: int, group: str) -> tuple[list, list]:
    """Units shuffled by the seed and the group's name; the first half (rounded up) is `fit`.

    Both lists keep the units' sorted order.
    """
    shuffled = sorted(units)
    random.Random(f"{seed}:{group}").shuffle(shuffled)
    half = math.ceil(len(shuffled) / 2)
    return sorted(shuffled[:half]), sorted(shuffled[half:])


def split_news_sets(years: dict[str, str], seed: int) -> dict[str, str]:
    """Whole news sets to a part: within each year, half to fit and half to check, by the seed.

    `years` maps each set's name to the year of its first week.
    """
    parts = {}
    for year in sorted(set(years.values())):
        fit, check = split_half([n for n, y in years.items() if y == year], seed, f"realtimeqa:{year}")
        parts.update({n: "fit" for n in fit} | {n: "check" for n in check})
    return parts


# ----- writing ----------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_digest(folder: Path) -> str:
    """One sha256 over every file of a folder: its name and its content's sha256, in name order."""
    listing = "".join(f"{p.name}\t{_sha256(p)}\n" for p in sorted(folder.iterdir()) if p.is_file())
    return hashlib.sha256(listing.encode()).hexdigest()


def _write_jsonl(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                    encoding="utf-8")


def _fresh_articles(folder: Path) -> Path:
    """The set's `articles/` folder, emptied (the set's store beside it is kept)."""
    articles = folder / "articles"
    if articles.exists():
        shutil.rmtree(articles)
    articles.mkdir(parents=True)
    return articles


def _gold_lines(items: list[GoldQuestion]) -> list[dict]:
    return [{"question": i.question, "answers": i.answers, "answerable": i.answerable,
             "sources": i.sources, "kind": i.kind,
             **({"history": [list(t) for t in i.history]} if i.history else {})}
            for i in items]


def _entry(name: str, part: str, source: str, folder: Path, count: int, answerable: int,
           **details) -> dict:
    articles = folder / "articles"
    return {"name": name, "part": part, "source": source, **details,
            "questions": count, "answerable": answerable,
            "articles": sum(1 for p in articles.iterdir() if p.suffix == ".txt"),
            "questions_sha256": _sha256(folder / "questions.jsonl"),
            "articles_sha256": folder_digest(articles)}


def build_news_set(news: NewsSet, part: str, pool_dir: Path) -> dict:
    folder = pool_dir / news.name
    articles = _fresh_articles(folder)
    for article in news.articles.values():
        (articles / f"{article.name}.txt").write_text(article.text, encoding="utf-8")
        (articles / f"{article.name}.meta.json").write_text(article.sidecar, encoding="utf-8")
    lines = news_questions(news)
    _write_jsonl(folder / "questions.jsonl", lines)
    return _entry(news.name, part, "realtimeqa", folder, len(lines),
                  sum(line["answerable"] for line in lines),
                  weeks=[w.week for w in news.weeks],
                  files={name: digest for w in news.weeks for name, digest in w.files.items()})


def build_squad_sets(squad: Path, seed: int, pool_dir: Path) -> list[dict]:
    """The SQuAD sample split by paragraph: each part a filtered SQuAD file, its paragraphs as
    articles (named as `load_squad` names them) and its questions in the gold-set format."""
    raw = json.loads(squad.read_text(encoding="utf-8"))
    numbered = [(d, p) for d, document in enumerate(raw["data"])
                for p, _ in enumerate(document.get("paragraphs", []))]
    fit, check = split_half(list(range(len(numbered))), seed, "squad")
    entries = []
    for part, chosen in (("fit", fit), ("check", check)):
        keep = {numbered[i] for i in chosen}
        data = [{**document, "paragraphs": [p for j, p in enumerate(document["paragraphs"])
                                            if (d, j) in keep]}
                for d, document in enumerate(raw["data"])]
        data = [document for document in data if document["paragraphs"]]
        name = f"squad-{part}"
        folder = pool_dir / name
        articles = _fresh_articles(folder)
        filtered = folder / "squad.json"
        filtered.write_text(json.dumps({**raw, "data": data}, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        items, texts = load_squad(filtered)
        for source, text in texts.items():
            (articles / source).write_text(text, encoding="utf-8")
        _write_jsonl(folder / "questions.jsonl", _gold_lines(items))
        entries.append(_entry(name, part, "squad", folder, len(items),
                              sum(i.answerable for i in items), file=f"qa/data/{SQUAD_FILE}",
                              file_sha256=_sha256(squad), paragraphs=chosen,
                              squad_sha256=_sha256(filtered)))
    return entries


def build_seed_heldout_sets(data: Path, seeds: Path, seed: int, pool_dir: Path) -> list[dict]:
    """Held-out sets 1-3 split by question; both parts ask about the same two seed articles."""
    lines: dict[tuple[str, int], str] = {}
    for name in SEED_HELDOUT_FILES:
        for number, line in enumerate((data / name).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                lines[(name, number)] = line
    fit, check = split_half(list(lines), seed, "seed-heldout")
    sources = sorted({s for line in lines.values() for s in json.loads(line).get("sources", [])})
    entries = []
    for part, chosen in (("fit", fit), ("check", check)):
        name = f"seed-heldout-{part}"
        folder = pool_dir / name
        articles = _fresh_articles(folder)
        for source in sources:
            shutil.copyfile(seeds / source, articles / source)
        # Verbatim lines, in file and line order.
        (folder / "questions.jsonl").write_text("".join(lines[u] + "\n" for u in chosen),
                                                encoding="utf-8")
        items = load_dataset(folder / "questions.jsonl")
        entries.append(_entry(name, part, "seed-heldout", folder, len(items),
                              sum(i.answerable for i in items),
                              lines={f: [n for g, n in chosen if g == f] for f in SEED_HELDOUT_FILES}))
    return entries


def build_pool(realtimeqa: Path, data_dir: Path, plan: PoolPlan | None = None,
               progress: Callable[[str], None] = print) -> dict:
    """Builds every set under `data_dir/pool/` and returns the manifest that describes it."""
    plan = plan or PoolPlan()
    snapshot = Snapshot(realtimeqa)
    pool_dir = data_dir / POOL_FOLDER
    pool_dir.mkdir(parents=True, exist_ok=True)
    progress(f"Reading RealTimeQA weeks of {', '.join(REALTIMEQA_YEARS)} from {realtimeqa}")
    news_sets, missing = plan_news_sets(snapshot, plan, progress)
    parts = split_news_sets({n.name: n.weeks[0].week[:4] for n in news_sets}, plan.seed)
    entries = []
    for news in news_sets:
        entry = build_news_set(news, parts[news.name], pool_dir)
        progress(f"  {entry['name']} ({entry['part']}): weeks {entry['weeks'][0]}-"
                 f"{entry['weeks'][-1]}, {entry['articles']} articles, {entry['questions']} "
                 f"questions, {entry['answerable']} answerable")
        entries.append(entry)
    data = repository_data()
    entries += build_squad_sets(data / SQUAD_FILE, plan.seed, pool_dir)
    entries += build_seed_heldout_sets(data, repository_seeds(), plan.seed, pool_dir)
    for entry in entries[len(news_sets):]:
        progress(f"  {entry['name']} ({entry['part']}): {entry['articles']} articles, "
                 f"{entry['questions']} questions, {entry['answerable']} answerable")
    manifest = {
        "about": "The development pool of issue 19; built by `newsdesk pool build`. "
                 "fit: tune on it. check: report, never choose. See README, Development pool.",
        "plan": plan.as_dict(),
        "parts": PART_PURPOSE,
        "realtimeqa": {"repository": REALTIMEQA_REPOSITORY, "commit": snapshot.commit,
                       "read": [f"past/{year}/" for year in REALTIMEQA_YEARS],
                       "weeks_listed": len(snapshot.weeks()), "missing_weeks": missing},
        "totals": {part: sum(e["questions"] for e in entries if e["part"] == part)
                   for part in PARTS},
        "sets": entries,
    }
    for part in PARTS:
        progress(f"{part}: {manifest['totals'][part]} questions in "
                 f"{sum(e['part'] == part for e in entries)} sets")
    return manifest


def write_manifest(manifest: dict, path: Path) -> None:
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def read_manifest(path: Path | None = None) -> dict:
    path = path or default_manifest()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PoolError(f"{path}: no pool manifest ({error})") from None


_COMPARED = ("part", "questions", "answerable", "articles", "questions_sha256", "articles_sha256")


def differences(built: dict, manifest: dict) -> list[str]:
    """How a build differs from the manifest: one line each, empty when it is the same pool."""
    problems = []
    if built["plan"] != manifest.get("plan"):
        problems.append("the plan (windows, sizes or seed) differs from the manifest's")
    recorded = {e["name"]: e for e in manifest.get("sets", [])}
    made = {e["name"]: e for e in built["sets"]}
    for name in sorted(recorded.keys() - made.keys()):
        problems.append(f"{name}: in the manifest, not built")
    for name in sorted(made.keys() - recorded.keys()):
        problems.append(f"{name}: built, not in the manifest")
    for name in sorted(made.keys() & recorded.keys()):
        for key in _COMPARED:
            if made[name].get(key) != recorded[name].get(key):
                problems.append(f"{name}: {key} is {made[name].get(key)}, the manifest says "
                                f"{recorded[name].get(key)}")
    return problems


# ----- using the pool ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolSet:
    """One runnable set of the pool: its questions and its own articles folder."""

    name: str
    part: str
    source: str  # "realtimeqa", "squad" or "seed-heldout"
    questions_path: Path  # gold-set JSONL
    articles_dir: Path

    @property
    def is_squad(self) -> bool:
        return self.source == "squad"

    @property
    def squad_path(self) -> Path | None:
        """The part's filtered SQuAD file (for `prepare_squad`), for a SQuAD set."""
        return self.questions_path.parent / "squad.json" if self.is_squad else None

    @property
    def store_dir(self) -> Path:
        """A store of this set's own, beside its articles (kept when the pool is rebuilt)."""
        return self.questions_path.parent / "store"

    def questions(self) -> list[GoldQuestion]:
        return load_dataset(self.questions_path)

    def settings_for(self, settings: Settings) -> Settings:
        """`settings` with this set's articles folder and store."""
        return settings.model_copy(update={"articles_dir": self.articles_dir,
                                           "data_dir": self.store_dir})


def pool_sets(part: str, data_dir: Path, manifest: Path | None = None,
              verify: bool = True) -> list[PoolSet]:
    """The part's sets as built under `data_dir/pool/`, in the manifest's order.

    With `verify`, a questions file that is missing or differs from the manifest is an error.
    """
    if part not in PARTS:
        raise PoolError(f"part must be one of {', '.join(PARTS)}, not {part!r}")
    sets = []
    for entry in read_manifest(manifest)["sets"]:
        if entry["part"] != part:
            continue
        folder = data_dir / POOL_FOLDER / entry["name"]
        questions = folder / "questions.jsonl"
        if not questions.is_file():
            raise PoolError(f"{questions}: not built; run `newsdesk pool build --realtimeqa PATH`")
        if verify and _sha256(questions) != entry["questions_sha256"]:
            raise PoolError(f"{questions}: differs from the manifest; rebuild the pool")
        sets.append(PoolSet(entry["name"], part, entry["source"], questions, folder / "articles"))
    return sets


def format_pool(manifest: dict, data_dir: Path | None = None) -> str:
    """The sets by part, with their counts and, given a data folder, whether each is built."""
    rows = []
    for part in PARTS:
        rows.append(f"{part} ({manifest['parts'][part]}): {manifest['totals'][part]} questions")
        for entry in manifest["sets"]:
            if entry["part"] != part:
                continue
            weeks = (f", weeks {entry['weeks'][0]}-{entry['weeks'][-1]}"
                     if entry.get("weeks") else "")
            state = ""
            if data_dir is not None:
                questions = data_dir / POOL_FOLDER / entry["name"] / "questions.jsonl"
                state = ("  built" if questions.is_file()
                         and _sha256(questions) == entry["questions_sha256"]
                         else "  NOT BUILT" if not questions.is_file() else "  DIFFERS")
            rows.append(f"  {entry['name']:20s} {entry['questions']:4d} questions "
                        f"({entry['answerable']} answerable), {entry['articles']} articles"
                        f"{weeks}{state}")
    return "\n".join(rows)
