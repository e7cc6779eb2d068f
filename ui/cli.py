"""The `newsdesk` command: index, ask, timeline, chat, eval, pool and bench (and, in ui/cli_web.py,
news from the web: add, follow, feeds, refresh, unfollow), over the settings of the environment and `.env`.

It only presents what `index` and `qa` return; errors become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from ui.eval_command import add_eval_command
from ui.cli_web import add_web_commands


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # A polite kill runs the exit handlers, which stop the local model server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    from index.articles import ArticleError
    from index.settings import SettingsError
    from index.store import StoreError

    try:
        return args.run(args)
    except (SettingsError, StoreError, ArticleError) as error:
        print(f"newsdesk: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nnewsdesk: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a user gets one line, not a traceback; NEWSDESK_DEBUG-free
        print(f"newsdesk: unexpected {type(error).__name__}: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdesk",
        description="Ask questions of a folder of news articles; answers cite their passages.",
    )
    commands = parser.add_subparsers(dest="command")

    index = commands.add_parser("index", help="bring the index up to date with the articles")
    index.set_defaults(run=_index)

    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument(
        "--history", metavar="FILE",
        help="JSON file of earlier turns: [[question, answer], ...]",
    )
    _filter_arguments(ask)
    ask.set_defaults(run=_ask)

    story = commands.add_parser(
        "timeline", help="the dated events the articles report about a topic, oldest first")
    story.add_argument("topic")
    story.add_argument("--json", action="store_true", help="print the Timeline as JSON")
    story.add_argument("--limit", type=int, default=60, help="most events shown (default: 60)")
    _filter_arguments(story)
    story.set_defaults(run=_timeline)

    chat = commands.add_parser("chat", help="serve the chat page")
    chat.add_argument("--host", help="overrides NEWSDESK_HOST")
    chat.add_argument("--port", type=int, help="overrides NEWSDESK_PORT")
    chat.set_defaults(run=_chat)

    add_web_commands(commands)
    _evaluation_commands(commands)
    return parser


def _evaluation_commands(commands) -> None:
    add_eval_command(commands)

    stories = commands.add_parser(
        "eval-stories", help="precision and recall of recognising the same story told twice")
    stories.add_argument("--dataset", type=Path,
                         help="JSONL of articles with their event and signatures (default: the "
                         "packaged set of real articles, qa/data/stories/articles.jsonl)")
    stories.add_argument("--model", choices=["minilm", "multilingual-e5-small", "both"], default="both",
                         help="embedding model whose signatures are grouped (default: both)")
    stories.add_argument("--threshold", type=float, help="signature cosine from which two articles "
                         "are one story (default: the calibrated one of the model)")
    stories.add_argument("--no-dates", action="store_true",
                         help="ignore publication dates (as if no article gave one)")
    stories.add_argument("--texts", type=Path, help="JSONL of {id, text}: make the signatures again "
                         "from these texts (after a change of model or of the signature)")
    stories.add_argument("--articles", type=Path, help="a folder of articles to group instead "
                         "(signatures made now; dates from <name>.meta.json sidecars)")
    stories.add_argument("--events", type=Path, help="with --articles: JSON {event: [file, ...]} "
                         "of the articles that report the same event (the others stand alone)")
    stories.add_argument("--out", type=Path, help="write the results (with every mistake) as JSON")
    stories.set_defaults(run=_eval_stories)

    pool = commands.add_parser("pool", help="the development pool: build it, or show its sets")
    pool_commands = pool.add_subparsers(dest="pool_command", required=True)
    build = pool_commands.add_parser(
        "build", help="build the pool under NEWSDESK_DATA_DIR/pool/ and check it against the manifest")
    build.add_argument("--realtimeqa", type=Path, required=True, metavar="PATH",
                       help="a fetched realtimeqa/realtimeqa_public: checkout or git directory")
    build.add_argument("--manifest", type=Path, help="default: qa/data/pool.json")
    build.add_argument("--write-manifest", action="store_true",
                       help="(re)write the manifest from this build instead of checking against it")
    build.set_defaults(run=_pool_build)
    show = pool_commands.add_parser("show", help="the pool's sets and parts, with counts")
    show.add_argument("--manifest", type=Path, help="default: qa/data/pool.json")
    show.set_defaults(run=_pool_show)

    bench = commands.add_parser(
        "bench", help="measure speed, indexing throughput and memory (and compare with LlamaIndex)")
    bench.add_argument("--sizes", default="100,1000,10000",
                       help="corpus sizes in articles, comma-separated, or 'none' for the answers "
                       "only (default: 100,1000,10000)")
    bench.add_argument("--questions", default="15",
                       help="gold questions of each kind to answer with the model, or 'all' for "
                       "every answerable one (default: 15)")
    bench.add_argument("--skip-llm", action="store_true",
                       help="no model: only indexing and retrieval (also when NEWSDESK_LLM=none)")
    bench.add_argument("--skip-llamaindex", action="store_true",
                       help="no side-by-side run of LlamaIndex's default pipeline")
    bench.add_argument("--out", type=Path, default=Path("docs/bench/latest.json"),
                       help="results JSON (default: docs/bench/latest.json); the plot is written "
                       "beside it as scaling.svg")
    bench.add_argument("--workdir", type=Path,
                       help="where corpora and stores are built (default: NEWSDESK_DATA_DIR/bench)")
    bench.add_argument("--merge", action="store_true",
                       help="keep what this run does not measure (other sizes, answers) from the "
                       "results already in --out; each size records the commit it was measured on")
    bench.set_defaults(run=_bench)


def _filter_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--since", metavar="DATE",
                         help="only articles published on or after DATE (YYYY-MM-DD)")
    command.add_argument("--until", metavar="DATE",
                         help="only articles published on or before DATE (YYYY-MM-DD)")
    command.add_argument("--outlet", action="append", metavar="NAME",
                         help="only articles from this outlet (any case); repeat for several")


def _filter_problem(args: argparse.Namespace) -> str | None:
    """Why --since/--until cannot be used, before anything is indexed or loaded; else None."""
    from qa.filters import FilterError, parse_filter_date

    try:
        since, until = parse_filter_date("--since", args.since), parse_filter_date("--until", args.until)
    except FilterError as error:
        return str(error)
    if since and until and since > until:
        return f"--since {since.isoformat()} is after --until {until.isoformat()}"
    return None


def citation_label(citation) -> str:
    """"[1] Arab News, 2025-12-19 — Title": outlet and date with every citation."""
    return (f"[{citation.number}] {citation.outlet or 'outlet unknown'}, "
            f"{citation.published or 'undated'} — {citation.title}")


def _index(args: argparse.Namespace) -> int:
    from index.build import build_index
    from index.settings import load_settings

    settings = load_settings()
    print(f"Indexing {settings.articles_dir} into {settings.data_dir} …", file=sys.stderr)
    report = build_index(settings, progress=_progress_bar("embedding"))
    _print_report(report)
    return 0


def _print_report(report) -> None:
    for source, reason in sorted(report.refused.items()):
        print(f"  refused {reason}", file=sys.stderr)
    for problems in report.warnings.values():
        for problem in problems:
            print(f"  metadata: {problem}", file=sys.stderr)
    for line in _duplicate_lines(report):
        print(f"  {line}", file=sys.stderr)
    print(report.summary())


def _duplicate_lines(report) -> list[str]:
    return [f"{copy} repeats {original} (both listed; answers quote each sentence once)"
            for copy, original in sorted(report.duplicates.items())]


def _progress_bar(label: str):
    def show(done: int, total: int, current: str) -> None:
        if total < 2:
            return
        width = 30
        filled = width * done // total
        print(f"\r  {label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
              end="" if done < total else "\n", file=sys.stderr, flush=True)

    return show


def indexed_engine(settings=None):
    """The engine for these settings (default: the environment's), its index brought up to date,
    with what indexing did and refused printed on stderr."""
    from index.settings import load_settings
    from qa.pipeline import engine_for

    engine = engine_for(settings or load_settings())
    # A large folder takes minutes to embed the first time: show it going.
    report = engine.ensure_index(progress=_progress_bar("indexing"))
    if report is not None and report.changed:
        print(f"index: {report.summary()}", file=sys.stderr)
    if report is not None:
        for reason in report.refused.values():
            print(f"index: refused {reason}", file=sys.stderr)
        for problems in report.warnings.values():
            for problem in problems:
                print(f"index: metadata: {problem}", file=sys.stderr)
        if report.changed:
            for line in _duplicate_lines(report):
                print(f"index: {line}", file=sys.stderr)
    return engine


def _ask(args: argparse.Namespace) -> int:
    history = None
    if args.history:
        try:
            history = json.loads(Path(args.history).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"newsdesk: cannot read --history {args.history}: {error}", file=sys.stderr)
            return 2
    problem = _filter_problem(args)
    if problem:
        print(f"newsdesk: {problem}", file=sys.stderr)
        return 2
    answer = indexed_engine().ask(args.question, history, since=args.since, until=args.until,
                           outlets=args.outlet)
    if args.json:
        payload = answer.to_dict()
        payload.pop("passages", None)
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    for corroboration in answer.corroborations:
        print(f"{corroboration.reported_by}.")
    if answer.citations:
        print()
    for citation in answer.citations:
        where = f"{citation.source}:{citation.start}-{citation.end}"
        print(citation_label(citation))
        print(f"    “{citation.quote.strip('“”')}”  — {where}")
        if citation.url:
            print(f"    {citation.url}")
    if answer.article_filter:
        print(f"\nfilter: {answer.article_filter}", file=sys.stderr)
    if answer.notice:
        print(f"\nnote: {answer.notice}", file=sys.stderr)
    return 0


def _timeline(args: argparse.Namespace) -> int:
    from qa.timeline import timeline

    problem = _filter_problem(args)
    if problem:
        print(f"newsdesk: {problem}", file=sys.stderr)
        return 2
    engine = indexed_engine()
    result = timeline(args.topic, engine.settings, since=args.since, until=args.until,
                      outlets=args.outlet, limit=max(1, args.limit))
    if args.json:
        print(result.to_json(indent=2))
        return 0
    heading = f"Timeline of “{result.topic}”"
    if result.article_filter:
        heading += f" ({result.article_filter})"
    print(f"{heading}: {len(result.events)} event{'s' if len(result.events) != 1 else ''}, oldest first")
    for event in result.events:
        label = event.label + (" (expected)" if event.expected else "")
        print(f"\n{label}")
        print(f"    “{event.text}”")
        basis = {"explicit": f"“{event.when}”",
                 "relative": f"“{event.when}”, counted from the article's date",
                 "published": "the article's date"}[event.dated_by]
        for citation in event.citations:
            print(f"    {citation_label(citation)} — {citation.source}:{citation.start}-{citation.end}"
                  f" (dated by {basis})")
    if result.notice:
        print(f"\nnote: {result.notice}", file=sys.stderr)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from index.settings import load_settings
    from ui.app import serve

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    settings = load_settings(**overrides)
    serve(settings)
    return 0


def _eval_stories(args: argparse.Namespace) -> int:
    import dataclasses

    from qa.evaluation.stories import (default_story_set, format_story_result, items_from_folder,
                                     load_story_set, signatures_from_texts)
    from qa.evaluation.stories import evaluate_stories

    models = ["minilm", "multilingual-e5-small"] if args.model == "both" else [args.model]
    dataset = args.articles or args.dataset or default_story_set()
    try:
        if args.articles:
            events = json.loads(args.events.read_text(encoding="utf-8")) if args.events else {}
            items = items_from_folder(args.articles, events, models)
        else:
            items = load_story_set(dataset)
    except (OSError, ValueError, KeyError) as error:
        print(f"newsdesk: cannot read {dataset}: {error}", file=sys.stderr)
        return 2
    if args.texts:
        texts = {}
        for line in args.texts.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts[row["id"]] = row["text"]
        for model in models:
            made = signatures_from_texts(texts, model)
            items = [dataclasses.replace(item, signatures={**item.signatures, model: made[item.id]})
                     if item.id in made else item for item in items]
    results = []
    for model in models:
        result = evaluate_stories(items, model, args.threshold, use_dates=not args.no_dates)
        results.append(result)
        print(format_story_result(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def _pool_build(args: argparse.Namespace) -> int:
    from index.settings import load_settings
    from qa.evaluation.pool import (PoolError, default_manifest, differences, read_manifest,
                                    write_manifest)
    from qa.evaluation.pool_build import build_pool

    manifest_path = args.manifest or default_manifest()
    try:
        built = build_pool(args.realtimeqa, load_settings().data_dir,
                           progress=lambda line: print(line, file=sys.stderr, flush=True))
        if args.write_manifest or not manifest_path.exists():
            write_manifest(built, manifest_path)
            print(f"wrote {manifest_path}", file=sys.stderr)
            return 0
        problems = differences(built, read_manifest(manifest_path))
    except PoolError as error:
        print(f"newsdesk: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"  DIFFERS {problem}", file=sys.stderr)
    print(f"{'differs from' if problems else 'matches'} {manifest_path}", file=sys.stderr)
    return 1 if problems else 0


def _pool_show(args: argparse.Namespace) -> int:
    from index.settings import load_settings
    from qa.evaluation.pool import PoolError, format_pool, read_manifest

    try:
        print(format_pool(read_manifest(args.manifest), load_settings().data_dir))
    except PoolError as error:
        print(f"newsdesk: {error}", file=sys.stderr)
        return 2
    return 0


def _bench(args: argparse.Namespace) -> int:
    from index.settings import load_settings
    from qa.evaluation.benchmark import BenchmarkError, BenchOptions, format_summary, run_benchmark
    from ui.bench_plot import write_scaling_plot

    try:
        # "none": the answers only (with --merge, the sizes of the results file are kept).
        sizes = [] if args.sizes.strip().lower() == "none" else [
            int(size) for size in args.sizes.split(",") if size.strip()]
    except ValueError:
        print(f"newsdesk: --sizes takes whole numbers separated by commas, not {args.sizes!r}",
              file=sys.stderr)
        return 2
    questions = None if args.questions.strip().lower() == "all" else (
        int(args.questions) if args.questions.strip().isdigit() else 0)
    if (sizes and min(sizes) < 1) or (not sizes and args.sizes.strip().lower() != "none") \
            or questions == 0:
        print("newsdesk: --sizes takes numbers of at least 1 (or 'none'), --questions a number of "
              "at least 1 or 'all'", file=sys.stderr)
        return 2
    previous = None
    if args.merge and args.out.exists():
        try:
            previous = json.loads(args.out.read_text(encoding="utf-8"))
        except ValueError as error:
            print(f"newsdesk: --merge: {args.out} is not a results file ({error})", file=sys.stderr)
            return 2
    settings = load_settings()
    options = BenchOptions(sizes=sizes, questions=questions, llm=not args.skip_llm,
                           llamaindex=not args.skip_llamaindex,
                           workdir=args.workdir or settings.data_dir / "bench", previous=previous)
    if options.llamaindex and options.llm and settings.llm == "local":
        import importlib.util

        if importlib.util.find_spec("llama_index.llms.openai_like") is None:
            print("newsdesk: the side-by-side run needs the `bench` extra "
                  "(make bench, or pip install 'newsdesk[bench]'); or pass --skip-llamaindex",
                  file=sys.stderr)
            return 2
    plot = args.out.with_name("scaling.svg")

    def save(result: dict) -> None:
        # Written after each part: a long run that is stopped keeps what it measured.
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if result["scaling"]:
            write_scaling_plot(result, plot)

    try:
        result = run_benchmark(settings, options, save=save,
                               progress=lambda line: print(line, file=sys.stderr, flush=True))
    except BenchmarkError as error:
        print(f"newsdesk: {error}", file=sys.stderr)
        return 1
    print(format_summary(result))
    print(f"wrote {args.out} and {plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
