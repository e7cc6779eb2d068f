"""The benchmark: retrieval and answer latency, indexing throughput and memory from a hundred to
ten thousand articles, and newsdesk side by side with LlamaIndex's default citation pipeline.

`run_benchmark()` returns one JSON-ready dict. Each corpus size is indexed in one fresh child
process (`python -m qa.benchmark`) and queried in another, as a newly started newsdesk would open
it, so the peak memory of indexing and of answering are each that size's alone.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from index.benchmark_corpus import DEFAULT_SEED, generate_corpus
from index.settings import Settings

DEFAULT_SIZES = (100, 1000, 10000)
DEFAULT_QUESTIONS = 15
# Embedding alone is timed on at most this many of a corpus's passages (an even sample).
EMBED_SAMPLE = 5_000
# The reply budget of both pipelines: newsdesk's default for an answer.
MAX_REPLY_TOKENS = 200
# LlamaIndex's prompts are long; a generous read timeout, and no silent retry doubling a time.
LLAMAINDEX_TIMEOUT = 600.0
WARM_UP_QUESTION = "Is the model ready?"
MIB = 1024 * 1024

Progress = Callable[[str], None]


class BenchmarkError(RuntimeError):
    """A part of the benchmark could not run; the message says which and why."""


@dataclass
class BenchOptions:
    sizes: list[int] = field(default_factory=lambda: list(DEFAULT_SIZES))
    questions: int | None = DEFAULT_QUESTIONS  # None: every answerable gold question
    llm: bool = True  # time answers with the configured model
    llamaindex: bool = True  # and LlamaIndex's pipeline with the same models
    workdir: Path = Path(".newsdesk/bench")
    seed: int = DEFAULT_SEED
    embed_sample: int = EMBED_SAMPLE
    # The results of an earlier run: what this run does not measure again is kept from it.
    previous: dict | None = None


# ----- figures -----------------------------------------------------------------------------------
def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-quantile by linear interpolation (q=0.5 is the median); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _spread(seconds: list[float], scale: float = 1.0, digits: int = 3) -> dict:
    return {
        "n": len(seconds),
        "p50": _round(percentile(seconds, 0.5), scale, digits),
        "p95": _round(percentile(seconds, 0.95), scale, digits),
        "mean": _round(sum(seconds) / len(seconds), scale, digits) if seconds else None,
    }


def _round(value: float | None, scale: float = 1.0, digits: int = 3) -> float | None:
    return None if value is None else round(value * scale, digits)


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _folder_mib(folder: Path) -> float:
    total = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    return round(total / MIB, 1)


def machine_info() -> dict:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    memory = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    info = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gib": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        here = Path(__file__).parent
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5, cwd=here)
        if commit.returncode == 0:
            info["commit"] = commit.stdout.strip()
            changes = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                     capture_output=True, text=True, timeout=5, cwd=here)
            # Figures of a tree with uncommitted edits are not those of the commit alone.
            info["uncommitted_changes"] = sorted(line[3:] for line in changes.stdout.splitlines())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


# ----- one corpus size, in a child process -------------------------------------------------------
class _TimedEmbedding:
    """The embedding model, counting the seconds spent in it (to tell where indexing time goes)."""

    def __init__(self, model):
        self.model = model
        self.seconds = 0.0

    def embed(self, texts):
        started = time.perf_counter()
        try:
            return self.model.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def __getattr__(self, name):  # the rest of the model's interface, untimed
        return getattr(self.model, name)


def measure_indexing(articles_dir: Path, data_dir: Path, threads: int, embed_sample: int) -> dict:
    """Index `articles_dir` from scratch into `data_dir`, then time the embedding model alone on
    the same passages. Runs in its own child process: the peak RSS is indexing's alone."""
    from index.articles import find_article_files, read_article
    from index.build import build_index
    from index.embedding import load_embedding_model
    from index.passages import split_passages
    from index.settings import load_settings
    from index.store import PassageStore

    # The embedded store always: a configured Chroma server must not receive benchmark corpora.
    settings = load_settings(articles_dir=articles_dir, data_dir=data_dir, llm="none",
                             chroma_url=None, llm_threads=threads)
    model = load_embedding_model(settings.llm_threads, settings.embedding_model)
    model.embed(["The embedding model is loaded before anything is timed."])

    timed = _TimedEmbedding(model)
    # CPU time beside wall time: on a shared machine the ratio of CPU times is the steadier one.
    started, cpu_started = time.perf_counter(), time.process_time()
    store = PassageStore(settings, embedding_model=timed)  # type: ignore[arg-type]
    report = build_index(settings, store, progress=_every(30.0))
    index_seconds = time.perf_counter() - started
    index_cpu_seconds = time.process_time() - cpu_started
    rss_indexing = _peak_rss_mib()
    passages = store.count()
    articles = len(store.manifest.articles)

    # The embedding model alone, on the same passages (an even sample of a large corpus).
    texts = []
    for path in find_article_files(articles_dir):
        article = read_article(path, path.name, settings.max_article_bytes)
        texts.extend(p.text for p in split_passages(article))
    words = sum(len(text.split()) for text in texts)
    step = max(1, -(-len(texts) // embed_sample))
    sample = texts[::step]
    del texts
    started, cpu_started = time.perf_counter(), time.process_time()
    model.embed(sample)
    embed_seconds = time.perf_counter() - started
    embed_cpu_seconds = time.process_time() - cpu_started

    embed_rate = len(sample) / embed_seconds
    index_rate = report.passages_embedded / index_seconds
    return {
        "articles": articles,
        "passages": passages,
        "words": words,
        "chunks_of_200_words": round(words / 200),
        "index": {
            "seconds": round(index_seconds, 2),
            "passages_per_second": round(index_rate, 1),
            "embedding_seconds": round(timed.seconds, 2),
            "cpu_seconds": round(index_cpu_seconds, 2),
            "refused": len(report.refused),
        },
        "embedding_alone": {
            "passages": len(sample),
            "seconds": round(embed_seconds, 2),
            "passages_per_second": round(embed_rate, 1),
            "cpu_seconds": round(embed_cpu_seconds, 2),
        },
        "throughput_ratio": round(index_rate / embed_rate, 3),
        "cpu_throughput_ratio": round((report.passages_embedded / index_cpu_seconds)
                                      / (len(sample) / embed_cpu_seconds), 3),
        "peak_rss_mib": {"indexing": rss_indexing},
        "store_mib": _folder_mib(data_dir),
        "embedding_model": model.model_name,
    }


def measure_answering(articles_dir: Path, data_dir: Path, threads: int,
                      passages_per_answer: int) -> dict:
    """Open the store built by `measure_indexing` as a newly started newsdesk would, and time
    retrieval, the passages the page shows first, and whole answers in evidence mode (no model:
    everything newsdesk itself does for an answer). Its own child process: the peak RSS is
    answering's alone, the model server excluded."""
    from index.settings import load_settings
    from qa.answer import AnswerEngine
    from qa.citations import contains_phrase
    from qa.evaluation import default_dataset, load_dataset
    from qa.retrieval import retrieve

    settings = load_settings(articles_dir=articles_dir, data_dir=data_dir, llm="none",
                             chroma_url=None, llm_threads=threads,
                             passages_per_answer=passages_per_answer)
    engine = AnswerEngine(settings)
    started = time.perf_counter()
    engine.ensure_index()  # nothing to index: the folder scan, and opening the store
    reopen_seconds = time.perf_counter() - started
    items = load_dataset(default_dataset())
    questions = [item.question for item in items]
    started = time.perf_counter()
    retrieve(engine.store, questions[0], settings.passages_per_answer)
    first_query_seconds = time.perf_counter() - started

    retrieval, ready, scan, evidence = [], [], [], []
    for question in questions:
        started = time.perf_counter()
        retrieve(engine.store, question, settings.passages_per_answer)
        retrieval.append(time.perf_counter() - started)
    for question in questions:
        # What the page waits for: ask_stream's first event, the retrieved passages.
        started = time.perf_counter()
        stream = engine.ask_stream(question)
        next(stream)
        ready.append(time.perf_counter() - started)
        stream.close()
    for question in questions:
        # The article folder is compared with the index before every question.
        started = time.perf_counter()
        engine.ensure_index()
        scan.append(time.perf_counter() - started)
    for question in questions:
        started = time.perf_counter()
        engine.ask(question)
        evidence.append(time.perf_counter() - started)
    hits = []
    for item in items:
        if item.answerable and not item.history:
            found = retrieve(engine.store, item.question, settings.passages_per_answer).passages
            hits.append(any(p.source in item.sources and contains_phrase(p.text, answer)
                            for p in found for answer in item.answers))
    return {
        "reopen_seconds": round(reopen_seconds, 3),
        "first_query_seconds": round(first_query_seconds, 3),
        "retrieval_ms": _spread(retrieval, 1000, 1),
        "passages_ready_ms": _spread(ready, 1000, 1),
        "folder_scan_ms": _spread(scan, 1000, 1),
        "evidence_answer_ms": _spread(evidence, 1000, 1),
        "retrieval_hit_at_k": round(sum(hits) / len(hits), 3) if hits else None,
        "k": settings.passages_per_answer,
        "peak_rss_mib": {"answering": _peak_rss_mib()},
    }


def peak_rss(row: dict) -> float:
    """A size's peak RSS: the larger of indexing's and answering's (rows of earlier runs, where
    both ran in one process, give one figure)."""
    peaks = row["peak_rss_mib"]
    if "after_queries" in peaks:
        return peaks["after_queries"]
    return max(peaks["indexing"], peaks["answering"])


def _every(seconds: float):
    """A build_index progress callback that says where indexing is, at most every `seconds`."""
    last = time.monotonic()

    def show(done: int, total: int, _current: str) -> None:
        nonlocal last
        if time.monotonic() - last >= seconds:
            last = time.monotonic()
            print(f"  indexed {done}/{total} articles", file=sys.stderr, flush=True)

    return show


def measure_size_in_child(settings: Settings, options: BenchOptions, size: int,
                          progress: Progress) -> dict:
    """Generate a corpus of `size` articles, index and query it in a child process; its row."""
    corpus = options.workdir / f"corpus-{size}"
    store = options.workdir / f"store-{size}"
    started = time.perf_counter()
    files = generate_corpus(settings.articles_dir, corpus, size, options.seed)
    corpus_seconds = time.perf_counter() - started
    progress(f"{size} articles: corpus written ({len(files)} files, {corpus_seconds:.1f} s); "
             "indexing and querying in a child process")
    shutil.rmtree(store, ignore_errors=True)
    result_file = options.workdir / f"size-{size}.json"
    job = {"articles_dir": str(corpus), "data_dir": str(store), "threads": settings.llm_threads,
           "passages_per_answer": settings.passages_per_answer,
           "embed_sample": options.embed_sample, "result": str(result_file)}
    load = [round(x, 2) for x in os.getloadavg()]
    row: dict = {}
    try:
        for phase in ("indexing", "answering"):
            child = subprocess.run([sys.executable, "-m", "qa.benchmark",
                                    json.dumps({**job, "phase": phase})], stdin=subprocess.DEVNULL)
            if child.returncode != 0 or not result_file.exists():
                raise BenchmarkError(f"{phase} at {size} articles failed "
                                     f"(exit code {child.returncode})")
            part = json.loads(result_file.read_text(encoding="utf-8"))
            result_file.unlink()
            peaks = {**row.get("peak_rss_mib", {}), **part.pop("peak_rss_mib")}
            row.update(part, peak_rss_mib=peaks)
    finally:
        result_file.unlink(missing_ok=True)
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(corpus, ignore_errors=True)
    row.update(corpus_seconds=round(corpus_seconds, 2), load_average_before=load,
               load_average_after=[round(x, 2) for x in os.getloadavg()],
               measured={"date": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    progress(f"{size} articles: {row['passages']} passages indexed in {row['index']['seconds']} s "
             f"({row['throughput_ratio']:.0%} of the embedding model alone; "
             f"{row['cpu_throughput_ratio']:.0%} in CPU time), retrieval p50 "
             f"{row['retrieval_ms']['p50']} ms, peak RSS {row['peak_rss_mib']['indexing']} MiB indexing, "
             f"{row['peak_rss_mib']['answering']} MiB answering")
    return row


# ----- answers: newsdesk and LlamaIndex on the same questions ------------------------------------
def _gold(count: int | None):
    """The standalone and the follow-up questions to answer: the first `count` factoid and
    follow-up questions, or with None every answerable one (factoid and disagreement standalone)."""
    from qa.evaluation import default_dataset, load_dataset

    items = [item for item in load_dataset(default_dataset()) if item.answerable]
    if count is None:
        standalone = [item for item in items if item.kind in ("factoid", "disagreement")
                      and not item.history]
        return standalone, [item for item in items if item.kind == "followup"]
    factoid = [item for item in items if item.kind == "factoid"][:count]
    followup = [item for item in items if item.kind == "followup"][:count]
    return factoid, followup


def _server_memory(settings: Settings) -> dict | None:
    """Peak and current RSS of the local model server, counted apart from newsdesk."""
    if settings.llm != "local":
        return None
    from qa.local_model import local_server, model_file

    server = local_server(model_file(settings.model_name, settings.model_files_dir),
                          threads=settings.llm_threads, context=settings.llm_context,
                          log_path=settings.data_dir / "logs" / "llama-server.log")
    if server.pid is None:
        return None
    figures = {}
    try:
        for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM", "VmRSS")):
                figures[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return {"peak_rss_mib": figures.get("VmHWM"), "rss_mib": figures.get("VmRSS")}


def _summary(records: list[dict]) -> dict:
    answered = [r for r in records if r.get("error") is None]
    return {
        "questions": len(records),
        "accuracy": round(sum(r["correct"] for r in records) / len(records), 3) if records else None,
        "passages_ready_s": _spread([r["passages_seconds"] for r in answered]),
        "first_token_s": _spread([r["first_token_seconds"] for r in answered
                                  if r["first_token_seconds"] is not None]),
        "answer_s": _spread([r["seconds"] for r in answered]),
        "context_chars_p50": percentile([r["context_chars"] for r in answered], 0.5),
        "errors": len(records) - len(answered),
    }


def measure_newsdesk(settings: Settings, factoid, followup, progress: Progress) -> dict:
    """newsdesk's own answers, streamed: passages, first token and whole answer per question."""
    from qa.answer import Answer, AnswerEngine
    from qa.evaluation import answer_correct

    engine = AnswerEngine(settings)
    engine.ensure_index()
    started = time.perf_counter()
    engine.warm_up()  # as the chat page does at start: the model reads the fixed prompt prefix
    warm_up_seconds = time.perf_counter() - started

    def timed(item) -> dict:
        started = time.perf_counter()
        passages_at = first_token_at = None
        answer = None
        for event in engine.ask_stream(item.question, item.history or None):
            now = time.perf_counter() - started
            if isinstance(event, list) and passages_at is None:
                passages_at = now
            elif isinstance(event, str) and first_token_at is None:
                first_token_at = now
            elif isinstance(event, Answer):
                answer = event
        seconds = time.perf_counter() - started
        assert answer is not None
        return {
            "question": item.question, "kind": item.kind, "expected": item.answers,
            "answer": answer.text, "abstained": answer.abstained, "mode": answer.mode,
            "correct": answer_correct(item, answer),
            # What the model reads besides the fixed prompt: its main cost before the first token.
            "context_chars": sum(len(p.text) for p in answer.passages),
            "passages_seconds": round(passages_at if passages_at is not None else seconds, 3),
            "first_token_seconds": None if first_token_at is None else round(first_token_at, 3),
            "seconds": round(seconds, 3), "error": None,
        }

    result = {"warm_up_seconds": round(warm_up_seconds, 2)}
    for kind, items in (("standalone", factoid), ("followup", followup)):
        records = []
        for number, item in enumerate(items, start=1):
            records.append(timed(item))
            progress(f"newsdesk {kind} [{number}/{len(items)}] "
                     f"{'right' if records[-1]['correct'] else 'WRONG':5s} "
                     f"first token {records[-1]['first_token_seconds']} s, "
                     f"answer {records[-1]['seconds']} s  {item.question[:60]}")
        result[kind] = {"summary": _summary(records), "questions": records}
    result["model_server"] = _server_memory(settings)
    result["model"] = engine.model.info.name if engine.model else None
    return result


def measure_llamaindex(settings: Settings, factoid, progress: Progress) -> dict:
    """LlamaIndex's default pipeline over the same articles with newsdesk's two models:
    `VectorStoreIndex` (default chunking) and `CitationQueryEngine.from_args`, streamed."""
    import httpx
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.query_engine import CitationQueryEngine
    from llama_index.llms.openai_like import OpenAILike

    from index.articles import find_article_files
    from index.embedding import load_embedding_model
    from qa.answer import Answer
    from qa.evaluation import answer_correct
    from qa.local_model import local_server, model_file

    server = local_server(model_file(settings.model_name, settings.model_files_dir),
                          threads=settings.llm_threads, context=settings.llm_context,
                          log_path=settings.data_dir / "logs" / "llama-server.log")
    llm = OpenAILike(
        model=settings.model_name, api_base=server.ensure_started(), api_key="local",
        is_chat_model=True, context_window=settings.llm_context,
        # The same generation settings as newsdesk's: greedy, the same reply budget.
        max_tokens=MAX_REPLY_TOKENS, temperature=0.0,
        timeout=LLAMAINDEX_TIMEOUT, max_retries=0,
        http_client=httpx.Client(trust_env=False, timeout=LLAMAINDEX_TIMEOUT),
    )
    files = [str(path) for path in find_article_files(settings.articles_dir)]
    started = time.perf_counter()
    documents = SimpleDirectoryReader(input_files=files).load_data()
    embed_model = load_embedding_model(settings.llm_threads, settings.embedding_model)
    index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)
    index_seconds = time.perf_counter() - started
    engine = CitationQueryEngine.from_args(index, llm=llm, streaming=True)

    def timed(question: str) -> tuple[str, float, float | None, float, int]:
        started = time.perf_counter()
        response = engine.query(question)
        passages_at = time.perf_counter() - started  # retrieval is done; generation starts lazily
        first_token_at = None
        text = ""
        for token in response.response_gen:
            if token and first_token_at is None:
                first_token_at = time.perf_counter() - started
            text += token
        context = sum(len(n.node.get_content()) for n in response.source_nodes)
        return text, passages_at, first_token_at, time.perf_counter() - started, context

    started = time.perf_counter()
    timed(WARM_UP_QUESTION)  # the same warm-up newsdesk gets: the fixed prompt prefix is read
    warm_up_seconds = time.perf_counter() - started
    records = []
    for number, item in enumerate(factoid, start=1):
        record = {"question": item.question, "kind": item.kind, "expected": item.answers}
        try:
            text, passages_at, first_token_at, seconds, context = timed(item.question)
        except Exception as error:  # a timeout or a server error counts as a wrong answer
            record.update(answer="", correct=False, error=f"{type(error).__name__}: {error}",
                          context_chars=None, passages_seconds=None, first_token_seconds=None,
                          seconds=None)
        else:
            answer = Answer(question=item.question, text=text.strip(), abstained=False)
            record.update(answer=answer.text, correct=answer_correct(item, answer), error=None,
                          context_chars=context,
                          passages_seconds=round(passages_at, 3),
                          first_token_seconds=None if first_token_at is None else round(first_token_at, 3),
                          seconds=round(seconds, 3))
        records.append(record)
        progress(f"LlamaIndex [{number}/{len(factoid)}] {'right' if record['correct'] else 'WRONG':5s} "
                 f"first token {record['first_token_seconds']} s, answer {record['seconds']} s  "
                 f"{item.question[:60]}")
    return {
        "pipeline": "SimpleDirectoryReader -> VectorStoreIndex (default chunking, in memory) -> "
                    "CitationQueryEngine.from_args(index, llm=OpenAILike(local server), "
                    f"streaming=True); embed_model={type(embed_model).__name__}",
        "chunks": len(index.docstore.docs),
        "index_seconds": round(index_seconds, 2),
        "warm_up_seconds": round(warm_up_seconds, 2),
        "standalone": {"summary": _summary(records), "questions": records},
    }


# ----- the whole run -----------------------------------------------------------------------------
def check_targets(result: dict) -> list[dict]:
    """Each target of issue 6 with the measured value and whether it is met (None: not measured)."""
    rows: list[dict] = []

    def add(target: str, value, limit, met) -> None:
        rows.append({"target": target, "value": value, "limit": limit,
                     "met": None if value is None else bool(met)})

    newsdesk = (result.get("newsdesk") or {}).get("standalone", {}).get("summary", {})
    ready = newsdesk.get("passages_ready_s", {}).get("p50")
    first = newsdesk.get("first_token_s", {}).get("p50")
    whole = newsdesk.get("answer_s", {}).get("p50")
    add("retrieved passages ready, p50 (s)", ready, 0.3, ready is not None and ready <= 0.3)
    add("first answer token, standalone question, p50 (s)", first, 3.0, first is not None and first <= 3.0)
    add("whole answer, standalone question, p50 (s)", whole, 10.0, whole is not None and whole <= 10.0)
    largest = max(result.get("scaling", []), key=lambda row: row["articles"], default=None)
    if largest is not None:
        size = largest["articles"]
        ratio = largest["throughput_ratio"]
        add(f"indexing throughput / embedding alone, {size} articles", ratio, 0.75, ratio >= 0.75)
        cpu_ratio = largest.get("cpu_throughput_ratio")
        add(f"the same in CPU time, {size} articles", cpu_ratio, 0.75,
            cpu_ratio is not None and cpu_ratio >= 0.75)
        p50 = largest["retrieval_ms"]["p50"]
        add(f"retrieval p50 at {size} articles (ms)", p50, 100, p50 is not None and p50 < 100)
        rss = peak_rss(largest)
        add(f"newsdesk peak RSS at {size} articles (MiB)", rss, 2048, rss < 2048)
    llamaindex = (result.get("llamaindex") or {}).get("standalone", {}).get("summary", {})
    theirs = llamaindex.get("first_token_s", {}).get("p50")
    if theirs is not None and first is not None:
        add("first token p50: newsdesk / LlamaIndex", round(first / theirs, 3), 1.0, first < theirs)
    if llamaindex.get("accuracy") is not None and newsdesk.get("accuracy") is not None:
        add("accuracy: newsdesk minus LlamaIndex", round(newsdesk["accuracy"] - llamaindex["accuracy"], 3),
            0.0, newsdesk["accuracy"] >= llamaindex["accuracy"])
    return rows


def run_benchmark(settings: Settings, options: BenchOptions, progress: Progress = lambda _: None,
                  save: Callable[[dict], None] | None = None) -> dict:
    """Every measurement `options` asks for, as one JSON-ready dict.

    `save` gets the result after each part (`complete` false until the end), so a long run that
    is stopped still leaves what it measured.
    """
    options.workdir.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "complete": False,
        "machine": machine_info(),
        "options": {"sizes": sorted(set(options.sizes)), "questions": options.questions,
                    "seed": options.seed, "embed_sample": options.embed_sample,
                    "llm_threads": settings.llm_threads, "passages_per_answer": settings.passages_per_answer},
        "embedding_model": _embedding_model_id(settings),
        "scaling": [],
    }

    def checkpoint() -> dict:
        merged = merge_results(options.previous, result) if options.previous else result
        merged["targets"] = check_targets(merged)
        if save is not None:
            save(merged)
        return merged

    # Answers first: their latencies are the figures a busy machine distorts most.
    if options.llm and settings.llm != "none":
        factoid, followup = _gold(options.questions)
        answers_settings = settings.model_copy(update={
            "data_dir": options.workdir / "store-seeds", "chroma_url": None})
        shutil.rmtree(answers_settings.data_dir, ignore_errors=True)  # indexed afresh
        result["model"] = {"backend": settings.llm, "name": settings.model_name,
                           "threads": settings.llm_threads, "context": settings.llm_context}
        progress(f"answers: {len(factoid)} standalone and {len(followup)} follow-up questions "
                 f"with {settings.model_name}")
        load = [round(x, 2) for x in os.getloadavg()]
        result["newsdesk"] = measure_newsdesk(answers_settings, factoid, followup, progress)
        result["newsdesk"]["load_average_before"] = load
        checkpoint()
        if options.llamaindex and settings.llm == "local":
            load = [round(x, 2) for x in os.getloadavg()]
            result["llamaindex"] = measure_llamaindex(answers_settings, factoid, progress)
            result["llamaindex"]["load_average_before"] = load
            checkpoint()
        elif options.llamaindex:
            result["llamaindex"] = None
            result["llamaindex_skipped"] = "the side-by-side runs with the local model only"
    for size in sorted(set(options.sizes)):
        row = measure_size_in_child(settings, options, size, progress)
        # Sizes of one results file may come from different runs (--merge): each says which
        # code measured it, the code this run started with.
        row["measured"].update({key: result["machine"].get(key)
                                for key in ("commit", "uncommitted_changes")})
        result["scaling"].append(row)
        checkpoint()
    result["complete"] = True
    return checkpoint()


def merge_results(previous: dict, current: dict) -> dict:
    """`current`, with what it did not measure taken from `previous`: corpus sizes it did not
    run, and the answers when it skipped them. Each size says which commit measured it."""
    merged = dict(current)
    earlier = previous.get("machine", {})
    rows = {row["articles"]: row for row in previous.get("scaling", [])}
    for row in rows.values():
        row.setdefault("measured", {key: earlier.get(key) for key in
                                    ("date", "commit", "uncommitted_changes")})
    rows.update({row["articles"]: row for row in current.get("scaling", [])})
    merged["scaling"] = [rows[size] for size in sorted(rows)]
    merged["options"] = {**current.get("options", {}), "sizes": sorted(rows)}
    kept = [part for part in ("model", "newsdesk", "llamaindex") if part not in current
            and part in previous]
    for part in kept:
        merged[part] = previous[part]
    runs = [*previous.get("earlier_runs", []),
            {"machine": earlier, "kept": kept,
             "sizes": sorted(set(rows) - {row["articles"] for row in current.get("scaling", [])})}]
    merged["earlier_runs"] = [run for run in runs if run["kept"] or run["sizes"]]
    # A previous file may hold targets and a partial run's flag: both are this run's now.
    merged.pop("targets", None)
    return merged


def _embedding_model_id(settings: Settings) -> str:
    from index.embedding import MODEL_IDS

    return MODEL_IDS[settings.embedding_model]


def format_summary(result: dict) -> str:
    """The figures as plain-text tables, for the terminal."""
    lines = ["articles  passages  index s  idx/embed (cpu)  retrieval p50 ms  ready p50 ms  hit@k  "
             "peak RSS MiB"]
    for row in result.get("scaling", []):
        lines.append(
            f"{row['articles']:>8}  {row['passages']:>8}  {row['index']['seconds']:>7}  "
            f"{row['throughput_ratio']:>8.0%} ({row['cpu_throughput_ratio']:.0%})  "
            f"{row['retrieval_ms']['p50']:>16}  "
            f"{row['passages_ready_ms']['p50']:>12}  {row['retrieval_hit_at_k']:>5}  "
            f"{peak_rss(row):>12}")
    for name in ("newsdesk", "llamaindex"):
        part = result.get(name)
        if not part:
            continue
        for kind in ("standalone", "followup"):
            if kind in part:
                s = part[kind]["summary"]
                lines.append(f"{name} {kind}: accuracy {s['accuracy']}, passages p50 "
                             f"{s['passages_ready_s']['p50']} s, first token p50 "
                             f"{s['first_token_s']['p50']} s, answer p50 {s['answer_s']['p50']} s "
                             f"({s['questions']} questions, {s['errors']} errors)")
    lines.append("")
    for row in result.get("targets", []):
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[row["met"]]
        lines.append(f"{verdict:>12}  {row['target']}: {row['value']} (limit {row['limit']})")
    return "\n".join(lines)


def _worker() -> None:
    job = json.loads(sys.argv[1])
    if job["phase"] == "indexing":
        row = measure_indexing(Path(job["articles_dir"]), Path(job["data_dir"]), job["threads"],
                               job["embed_sample"])
    else:
        row = measure_answering(Path(job["articles_dir"]), Path(job["data_dir"]), job["threads"],
                                job["passages_per_answer"])
    Path(job["result"]).write_text(json.dumps(row), encoding="utf-8")


if __name__ == "__main__":
    _worker()
