"""Load test of the chat page: several readers asking at once, through the page's own API.

`python -m tests.loadtest` starts `newsdesk chat` over the seed articles on a free loopback port
(SmolLM2-135M by default: plumbing, not quality), drives it with --users readers of --questions
questions each (gold questions, a follow-up right after the question it follows) with
gradio_client, checks that no question is lost and that every reader's chat holds only its own
questions and answers, and writes throughput, latency and queue waits to docs/load/latest.json.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from ui.page_process import running_page

# gradio_client looks up its hub and honours proxies unless told otherwise; this is all loopback.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = ROOT / "qa" / "data" / "gold.jsonl"
_SECONDS = re.compile(r"Answered .*? in ([\d.]+) s(?: \(([\d.]+) s waiting for the model)?")
_QUOTE = re.compile(r'<span class="nd-quote">“(.*?)”</span>', re.S)
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class Result:
    """One question as one reader saw it."""

    user: int
    turn: int
    question: str
    latency: float | None = None  # seconds from sending to the finished answer, client side
    answer_seconds: float | None = None  # what the page reports: newsdesk's own time
    queue_seconds: float = 0.0  # of which waiting for the model while it served others
    abstained: bool = False
    answer: str = ""  # what the reader saw, as plain text (cut short)
    problem: str | None = None  # lost, unfinished, or mixed with another reader's


def conversations(users: int, per_user: int) -> list[list[str]]:
    """Each reader's questions: gold factoid and follow-up questions, every follow-up right after
    the question it follows, each reader starting at another place in the set."""
    items = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    threads = [[turn[0] for turn in item["history"]] + [item["question"]] if item.get("history")
               else [item["question"]] for item in items if item["kind"] in ("factoid", "followup")]
    plans = []
    for user in range(users):
        plan: list[str] = []
        position = user * 7
        while len(plan) < per_user:
            thread = threads[position % len(threads)]
            plan.extend(thread[: per_user - len(plan)])
            position += 1
        plans.append(plan)
    return plans


@contextmanager
def serve_page(workdir: Path, llm: str = "local", model: str = "smollm2-135m",
               start_seconds: float = 180) -> Iterator[str]:
    """`newsdesk chat` over a copy of the seed articles on a free port; yields its URL."""
    articles = workdir / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    for seed in SEEDS.glob("*.txt"):
        shutil.copy(seed, articles / seed.name)
    with running_page(articles, workdir, start_seconds, llm=llm, model=model) as url:
        yield url


def _text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):  # Gradio 6: a list of parts
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", fragment)).split())


def _check(chat: list, passages: str, asked: list[str]) -> tuple[str | None, str]:
    """A problem with what one reader sees after its latest question, or None; and the answer."""
    from ui.app import _user_text  # how the page shows a question

    if len(chat) != 2 * len(asked):
        return f"the chat holds {len(chat)} messages after {len(asked)} questions", ""
    shown = [_text(m) for m in chat if m["role"] == "user"]
    if shown != [_user_text(q) for q in asked]:
        return "the chat holds questions this reader did not ask", ""
    answer = _text(chat[-1])
    if chat[-1]["role"] != "assistant" or "Answered" not in answer:
        return "no finished answer", answer
    # The answer belongs to this question: everything it quotes was retrieved for it.
    retrieved = _plain(passages)
    for quote in _QUOTE.findall(answer):
        if _plain(quote) not in retrieved:
            return "the answer quotes a passage not retrieved for its question", answer
    return None, answer


def _reader(url: str, user: int, questions: list[str], deadline: float, results: list[Result],
            start: threading.Barrier) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)  # its own session: its own conversation state
    chat: list = []
    start.wait()
    for turn, question in enumerate(questions):
        result = Result(user, turn, question)
        results.append(result)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            result.problem = "lost: the run's time was up"
            continue
        sent = time.monotonic()
        try:
            chat, _, passages = client.submit(question, chat, api_name="/respond").result(timeout=remaining)
        except Exception as error:  # a lost question is a result, not the end of the run
            result.problem = f"lost: {type(error).__name__}: {error}"
            continue
        result.latency = time.monotonic() - sent
        result.problem, answer = _check(chat, passages, questions[: turn + 1])
        timing = _SECONDS.search(_plain(answer))
        if timing:
            result.answer_seconds = float(timing.group(1))
            result.queue_seconds = float(timing.group(2) or 0.0)
        result.answer = _plain(answer)[:300]
        result.abstained = result.answer.startswith("The articles don't say")


def run_load(url: str, users: int, per_user: int, seconds: float) -> dict:
    """Drive the page at `url`; return every result and a summary."""
    from gradio_client import Client

    # One question first, not counted: the model is loaded and its prompt prefix read.
    Client(url, verbose=False).submit("Who is Hamas's Gaza chief?", [],
                                      api_name="/respond").result(timeout=seconds)
    plans = conversations(users, per_user)
    results: list[Result] = []
    start = threading.Barrier(users)
    deadline = time.monotonic() + seconds
    began = time.monotonic()
    readers = [threading.Thread(target=_reader, args=(url, user, plans[user], deadline, results, start),
                                daemon=True) for user in range(users)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(max(1.0, deadline - time.monotonic() + 60))
    wall = time.monotonic() - began
    asked = {(r.user, r.turn) for r in results}
    for user, plan in enumerate(plans):  # questions a reader never got to send are lost too
        for turn, question in enumerate(plan):
            if (user, turn) not in asked:
                results.append(Result(user, turn, question, problem="lost: never sent"))
    return {"summary": summarise(results, wall, users, per_user),
            "questions": [asdict(r) for r in sorted(results, key=lambda r: (r.user, r.turn))]}


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)


def summarise(results: list[Result], wall: float, users: int, per_user: int) -> dict:
    answered = [r for r in results if r.latency is not None and r.problem is None]
    latencies = [r.latency for r in answered]
    waits = [r.queue_seconds for r in answered]
    return {
        "users": users,
        "questions_per_user": per_user,
        "questions": len(results),
        "answered": len(answered),
        "lost": sum(1 for r in results if r.problem and r.problem.startswith("lost")),
        "problems": sum(1 for r in results if r.problem),
        "abstained": sum(1 for r in answered if r.abstained),
        "wall_seconds": round(wall, 1),
        "throughput_per_minute": round(60 * len(answered) / wall, 1) if wall else None,
        "latency_p50": _percentile(latencies, 0.5),
        "latency_p95": _percentile(latencies, 0.95),
        "latency_max": round(max(latencies), 2) if latencies else None,
        "queue_wait_p50": _percentile(waits, 0.5),
        "queue_wait_p95": _percentile(waits, 0.95),
        "queue_wait_max": round(max(waits), 2) if waits else None,
        "answer_seconds_p50": _percentile([r.answer_seconds for r in answered
                                           if r.answer_seconds is not None], 0.5),
    }


def format_summary(summary: dict) -> str:
    s = summary
    return (f"{s['users']} readers x {s['questions_per_user']} questions: {s['answered']}/{s['questions']} "
            f"answered, {s['lost']} lost, {s['problems']} problems, {s['abstained']} abstained; "
            f"{s['throughput_per_minute']} answers/min over {s['wall_seconds']} s; latency p50 "
            f"{s['latency_p50']} s, p95 {s['latency_p95']} s; waiting for the model p50 "
            f"{s['queue_wait_p50']} s, p95 {s['queue_wait_p95']} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.loadtest", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--questions", type=int, default=20, help="questions per reader")
    parser.add_argument("--model", default="smollm2-135m", help="NEWSDESK_MODEL of the page")
    parser.add_argument("--llm", default="local", choices=["local", "none"])
    parser.add_argument("--seconds", type=float, default=1200, help="the run's time limit")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "load" / "latest.json")
    args = parser.parse_args(argv)
    load_at_start = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews figures
    with tempfile.TemporaryDirectory(prefix="newsdesk-load-") as folder:
        with serve_page(Path(folder), llm=args.llm, model=args.model) as url:
            print(f"page at {url}; {args.users} readers x {args.questions} questions", file=sys.stderr)
            result = run_load(url, args.users, args.questions, args.seconds)
    result["setup"] = {
        "llm": args.llm, "model": args.model if args.llm == "local" else None,
        "articles": "seeds/", "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
        "page_concurrency_limit": 8, "load_average_at_start": load_at_start,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(format_summary(result["summary"]))
    for record in result["questions"]:
        if record["problem"]:
            print(f"  reader {record['user']} question {record['turn']}: {record['problem']}", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if result["summary"]["problems"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
