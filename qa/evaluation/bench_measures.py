"""The benchmark's measurements: indexing and answering one corpus (each in a child process), and
answers of newsdesk and of LlamaIndex's default citation pipeline, with the figures' helpers.

qa/evaluation/benchmark.py runs them and gathers one result.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from index.settings import Settings

# Embedding alone is timed on at most this many of a corpus's passages (an even sample).
EMBED_SAMPLE = 5_000
# The reply budget of both pipelines: newsdesk's default for an answer.
MAX_REPLY_TOKENS = 200
# LlamaIndex's prompts are long; a generous read timeout, and no silent retry doubling a time.
LLAMAINDEX_TIMEOUT = 600.0
WARM_UP_QUESTION = "Is the model ready?"
MIB = 1024 * 1024

Progress = Callable[[str], None]

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


def _every(seconds: float):
    """A build_index progress callback that says where indexing is, at most every `seconds`."""
    last = time.monotonic()

    def show(done: int, total: int, _current: str) -> None:
        nonlocal last
        if time.monotonic() - last >= seconds:
            last = time.monotonic()
            print(f"  indexed {done}/{total} articles", file=sys.stderr, flush=True)

    return show


def measure_answering(articles_dir: Path, data_dir: Path, threads: int,
                      passages_per_answer: int) -> dict:
    """Open the store built by `measure_indexing` as a newly started newsdesk would, and time
    retrieval, the passages the page shows first, and whole answers in evidence mode (no model:
    everything newsdesk itself does for an answer). Its own child process: the peak RSS is
    answering's alone, the model server excluded."""
    from index.settings import load_settings
    from qa.evaluation import contains, default_dataset, load_dataset
    from qa.pipeline import AnswerEngine
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
    retrieve(engine.store, questions[0], settings.passages_to_read)
    first_query_seconds = time.perf_counter() - started

    retrieval, ready, scan, evidence = [], [], [], []
    for question in questions:
        started = time.perf_counter()
        retrieve(engine.store, question, settings.passages_to_read)
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
            found = retrieve(engine.store, item.question, settings.passages_to_read).passages
            hits.append(any(p.source in item.sources and contains(p.text, answer)
                            for p in found for answer in item.answers))
    return {
        "reopen_seconds": round(reopen_seconds, 3),
        "first_query_seconds": round(first_query_seconds, 3),
        "retrieval_ms": _spread(retrieval, 1000, 1),
        "passages_ready_ms": _spread(ready, 1000, 1),
        "folder_scan_ms": _spread(scan, 1000, 1),
        "evidence_answer_ms": _spread(evidence, 1000, 1),
        "retrieval_hit_at_k": round(sum(hits) / len(hits), 3) if hits else None,
        "k": settings.passages_to_read,
        "peak_rss_mib": {"answering": _peak_rss_mib()},
    }


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
    from qa.answer import Final, Passages, Text
    from qa.evaluation import answer_correct
    from qa.pipeline import AnswerEngine

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
            if isinstance(event, Passages) and passages_at is None:
                passages_at = now
            elif isinstance(event, Text) and first_token_at is None:
                first_token_at = now
            elif isinstance(event, Final):
                answer = event.answer
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

