"""`newsdesk eval`: runs a question set or a part of the development pool and shows the figures,
as a table in the terminal, JSON and an HTML report; the running itself is qa.evaluation's.
With `--ablate`, the checks' ablation (qa/evaluation/ablation.py) as a Markdown table; with
`--reading-only`, reader recall at several reading budgets, without the model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def add_eval_command(commands) -> None:
    evaluate = commands.add_parser("eval", help="score answers on a gold set or the development pool")
    chosen = evaluate.add_mutually_exclusive_group()
    chosen.add_argument("--dataset", type=Path,
                        help="JSONL gold set or SQuAD v2.0 JSON (default: the seed gold set)")
    chosen.add_argument("--pool", choices=["fit", "check"],
                        help="a part of the development pool (README, 'Development pool'): each of "
                        "its sets over its own articles and store, one report with a row per set")
    evaluate.add_argument("--out", type=Path, help="write every answer and score as JSON here")
    evaluate.add_argument("--min-accuracy", type=float, help="exit 1 if answer accuracy is below")
    evaluate.add_argument("--min-trust", type=float,
                          help="exit 1 if the trust score is below (-1 to 1: +1 right or rightly "
                          "declined, 0 withheld, -1 wrong or answered when the articles do not say)")
    evaluate.add_argument("--replies-cache", type=Path, metavar="DIR",
                          help="keep every model reply here by its exact request and replay it "
                          "when the same request comes again")
    evaluate.add_argument("--resume", action="store_true",
                          help="continue an interrupted run with the same --out, skipping the "
                          "questions it already answered")
    evaluate.add_argument("--limit", type=int, help="only the first N questions of each set")
    evaluate.add_argument("--kinds", help="comma-separated kinds to run (factoid,followup,...)")
    evaluate.add_argument("--baseline", type=Path,
                          help="results JSON of an earlier run to compare with (default: the "
                          "checked-in run for the seed gold set)")
    evaluate.add_argument("--ablate", action="store_true",
                          help="run once with every answer check on, then once with each check "
                          "off alone (replayed from --replies-cache, which it needs) and show a "
                          "Markdown table of the figures; --out writes the table")
    evaluate.add_argument("--fit-decision", type=Path, metavar="RESULTS",
                          help="fit the decision's score on a results JSON written by --out (the "
                          "pool's fit part) and store it in qa/data/decision.json for its model")
    evaluate.add_argument("--check-results", type=Path, metavar="RESULTS",
                          help="with --fit-decision: also show trust on these results with the "
                          "score refitted without each piece of its evidence")
    evaluate.add_argument("--reading-only", action="store_true",
                          help="no model: only reader recall (an accepted answer among the passages "
                          "the first reading puts before the model) at each of --budgets")
    evaluate.add_argument("--budgets", metavar="TOKENS,...",
                          help="with --reading-only: the reading budgets in tokens (default: 1, 2 "
                          "and 4 times the configured model's NEWSDESK_READING_TOKENS)")
    evaluate.set_defaults(run=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    if args.fit_decision:
        return _fit_decision(args)
    problem = _ablation_problem(args) if args.ablate else None
    if problem:
        print(f"newsdesk: {problem}", file=sys.stderr)
        return 2
    chosen = _chosen_sets(args)
    if chosen is None:
        return 2
    sets, dataset = chosen
    described = f"the {args.pool} part of the pool" if args.pool else str(dataset)
    if args.reading_only:
        return _run_reading_only(args, sets)
    if args.ablate:
        return _run_ablation(args, sets, described)
    result = _run(args, sets, described)
    result["dataset"] = f"pool:{args.pool}" if args.pool else str(dataset)
    _compare_with_baseline(args, result, dataset)
    _write(args, result)
    summary = result["summary"]
    for flag, floor, name, figure in (("--min-accuracy", args.min_accuracy, "answer accuracy",
                                       summary["answer_accuracy"]),
                                      ("--min-trust", args.min_trust, "trust score", summary["trust_score"])):
        if floor is not None and (figure if figure is not None else -1.0) < floor:
            print(f"newsdesk: {name} {figure} is below {flag} {floor}", file=sys.stderr)
            return 1
    return 0


def _chosen_sets(args: argparse.Namespace) -> tuple[list, Path] | None:
    """The sets to run, with --kinds and --limit applied, and the dataset; None (said why) when
    they cannot be read."""
    from index.settings import load_settings
    from qa.evaluation import DatasetError, default_dataset
    from qa.evaluation.pool import PoolError
    from qa.evaluation.runner import dataset_sets, pool_part_sets

    settings = load_settings()
    dataset = args.dataset or default_dataset()
    try:
        sets = (pool_part_sets(settings, args.pool) if args.pool
                else dataset_sets(settings, dataset))
    except (OSError, DatasetError, PoolError) as error:
        print(f"newsdesk: {error}", file=sys.stderr)
        return None
    wanted = {k.strip() for k in args.kinds.split(",")} if args.kinds else None
    for evaluation_set in sets:
        items = [item for item in evaluation_set.items if wanted is None or item.kind in wanted]
        evaluation_set.items[:] = items[: args.limit] if args.limit else items
    return sets, dataset


def _run(args: argparse.Namespace, sets, described: str) -> dict:
    from qa.evaluation.runner import format_table, run_sets
    from ui.cli import indexed_engine

    total = sum(len(s.items) for s in sets)
    first = indexed_engine(sets[0].settings)
    model = first.model.info if first.model else None
    print(f"Evaluating {total} questions from {described} with "
          f"{f'{model.backend} model {model.name}' if model else 'no model (evidence mode)'}",
          file=sys.stderr)

    def show(name: str, done: int, count: int, record: dict) -> None:
        verdict = {True: "right", False: "WRONG", None: ""}[record["scores"]["correct"]]
        if not record["answerable"]:
            verdict = "abstained" if record["abstained"] else "ANSWERED"
        where = f"{name} " if len(sets) > 1 else ""
        print(f"  {where}[{done}/{count}] {verdict:9s} {record['seconds']:5.1f}s  "
              f"{record['question'][:70]}", file=sys.stderr, flush=True)

    journal = args.out.with_suffix(".partial.jsonl") if args.out else None
    if journal is not None and not args.resume:
        journal.unlink(missing_ok=True)
    elif journal is not None and journal.exists():
        print(f"Resuming from {journal}", file=sys.stderr)
    if journal is not None:
        journal.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = run_sets(sets, indexed_engine, progress=show, journal=journal,
                      replies_cache=args.replies_cache)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(format_table(result))
    if "replies" in result:
        replies = result["replies"]
        print(f"Model replies: {replies['from_cache']} from the cache {replies['cache']}, "
              f"{replies['from_model']} from the model (latencies of cached replies are not the "
              "model's)")
    return result


def _compare_with_baseline(args: argparse.Namespace, result: dict, dataset: Path) -> None:
    from qa.evaluation import baseline_for, compare, format_comparison

    if args.pool or args.limit or args.kinds:
        return
    backend = result["model"].get("backend", "none")
    baseline_path = args.baseline or baseline_for(dataset, backend)
    if not baseline_path:
        return
    try:
        baseline = json.loads(Path(baseline_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"newsdesk: cannot read the baseline {baseline_path}: {error}", file=sys.stderr)
        return
    result["comparison"] = {"baseline": str(baseline_path), "metrics": compare(result, baseline)}
    print(f"\nAgainst {baseline_path}:")
    print(format_comparison(result["comparison"]["metrics"]))


def _write(args: argparse.Namespace, result: dict) -> None:
    if not args.out:
        return
    from ui.report import write_report

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    report = args.out.with_suffix(".html")
    write_report(result, report)
    args.out.with_suffix(".partial.jsonl").unlink(missing_ok=True)  # the run is complete
    print(f"wrote {args.out} and {report}", file=sys.stderr)


# ----- the checks' ablation --------------------------------------------------------------------
def _ablation_problem(args: argparse.Namespace) -> str | None:
    if args.replies_cache is None:
        return ("--ablate needs --replies-cache DIR: each check switched off replays the model's "
                "replies from it, so the ablation asks the model once, not once per check")
    given = {"--resume": args.resume, "--baseline": args.baseline,
             "--min-accuracy": args.min_accuracy is not None, "--min-trust": args.min_trust is not None}
    ignored = [option for option, used in given.items() if used]
    if ignored:
        return f"--ablate does not use {', '.join(ignored)}"
    return None


def _run_ablation(args: argparse.Namespace, sets, described: str) -> int:
    from qa.evaluation.ablation import ablate, ablation_table
    from ui.cli import indexed_engine

    total = sum(len(s.items) for s in sets)
    if sets[0].settings.disabled_checks:
        print(f"NEWSDESK_DISABLED_CHECKS ({', '.join(sets[0].settings.disabled_checks)}) is not "
              "applied: the ablation's baseline has every check on", file=sys.stderr)
    print(f"Ablation of the checks on {total} questions from {described}, replies from "
          f"{args.replies_cache}", file=sys.stderr)

    def show(label: str, name: str, done: int, count: int, record: dict) -> None:
        if done == count or done % 25 == 0:
            where = f" {name}" if len(sets) > 1 else ""
            print(f"  {label}{where}: {done}/{count}", file=sys.stderr, flush=True)

    rows = ablate(sets, args.replies_cache, indexed_engine, progress=show)
    table = ablation_table(rows, described)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _fit_decision(args: argparse.Namespace) -> int:
    """Fit the decision on --fit-decision's results; with --check-results, the evidence table."""
    import json

    from qa.evaluation.calibration import feature_ablation, fit_decision, trust_with, write_decision
    from qa.confidence import Fit

    try:
        result = json.loads(args.fit_decision.read_text(encoding="utf-8"))
        check = (json.loads(args.check_results.read_text(encoding="utf-8"))
                 if args.check_results else None)
        model_name = result["model"]["name"] if isinstance(result.get("model"), dict) else result["model"]
        entry = fit_decision(result, model_name)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"newsdesk: the decision cannot be fitted: {error}", file=sys.stderr)
        return 2
    command = f"newsdesk eval --fit-decision {args.fit_decision.name}"
    write_decision(entry, model_name, command)
    for variant in ("with_logprobs", "without_logprobs"):
        if variant in entry:
            fit = entry[variant]
            print(f"{model_name}, {variant.replace('_', ' ')}: threshold {fit['threshold']}, "
                  f"fit part {fit['fit_part']}")
            if check is not None:
                print(f"  check part: {trust_with(Fit.stored(fit), check)}")
    if check is not None:
        print("| evidence | trust with | trust without | accuracy with / without | abstention with / without |")
        print("|---|---|---|---|---|")
        for row in feature_ablation(result, check):
            w, wo = row["with"], row["without"]
            print(f"| {row['evidence']} | {w['trust']} | {wo['trust']} | {w['accuracy']} / "
                  f"{wo['accuracy']} | {w['abstention']} / {wo['abstention']} |")
    return 0


def _run_reading_only(args: argparse.Namespace, sets) -> int:
    from qa.evaluation.reading_recall import reading_recall
    from ui.cli import indexed_engine

    try:
        budgets = ([int(b) for b in args.budgets.split(",")] if args.budgets else
                   [times * sets[0].settings.reading_budget for times in (1, 2, 4)])
    except ValueError:
        print(f"newsdesk: --budgets wants token counts separated by commas, not {args.budgets!r}",
              file=sys.stderr)
        return 2
    rows = []
    print("| set | budget (tokens) | questions | reader recall | tokens read p50 | retrieval p50 |")
    print("|---|---|---|---|---|---|")
    for evaluation_set in sets:
        # The budget is what matters here, not the model: none is started.
        engine = indexed_engine(evaluation_set.settings.model_copy(update={"llm": "none"}))
        for row in reading_recall(engine, evaluation_set.items, budgets):
            rows.append({"set": evaluation_set.name, **row})
            print(f"| {evaluation_set.name} | {row['budget']} | {row['questions']} | "
                  f"{row['reader_recall']} | {row['tokens_p50']} | {row['retrieval_ms_p50']} ms |",
                  flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"reading_only": rows}, indent=1))
    return 0
