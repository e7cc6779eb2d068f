"""The benchmark: retrieval and answer latency, indexing throughput and memory from a hundred to
ten thousand articles, and newsdesk side by side with LlamaIndex's default citation pipeline.

`run_benchmark()` returns one JSON-ready dict. Each corpus size is indexed in one fresh child
process (`python -m qa.evaluation.benchmark`) and queried in another, as a newly started newsdesk would open
it, so the peak memory of indexing and of answering are each that size's alone.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from index.benchmark_corpus import DEFAULT_SEED, generate_corpus
from index.settings import Settings
from qa.evaluation.bench_measures import (EMBED_SAMPLE, Progress, measure_answering, measure_indexing,
                                          measure_llamaindex, measure_newsdesk)

DEFAULT_SIZES = (100, 1000, 10000)
DEFAULT_QUESTIONS = 15


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
def peak_rss(row: dict) -> float:
    """A size's peak RSS: the larger of indexing's and answering's (rows of earlier runs, where
    both ran in one process, give one figure)."""
    peaks = row["peak_rss_mib"]
    if "after_queries" in peaks:
        return peaks["after_queries"]
    return max(peaks["indexing"], peaks["answering"])


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
            child = subprocess.run([sys.executable, "-m", "qa.evaluation.benchmark",
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
