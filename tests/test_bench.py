"""The benchmark: its corpus is the seed articles' own sentences recombined, the same every time, and
`newsdesk bench` writes a complete results file and plot (tiny size, no model; no timing asserted)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

from index.benchmark_corpus import generate_corpus, seed_sentences, sentence_template
from qa.evaluation.bench_measures import percentile
from qa.evaluation.benchmark import check_targets
from tests.conftest import SEED_A, SEED_B, SEEDS
from ui.bench_plot import scaling_svg
from ui.cli import main


def _made_of(line: str, templates: set[str]) -> bool:
    """Whether a paragraph's template is seed-sentence templates joined by spaces."""
    if not line:
        return True
    return any(
        line.startswith(t) and (len(line) == len(t) or line[len(t)] == " ")
        and _made_of(line[len(t) + 1 :], templates)
        for t in templates
    )


def test_generated_corpus_is_deterministic_nested_and_made_of_seed_sentences(tmp_path):
    first = generate_corpus(SEEDS, tmp_path / "a", 30)
    again = generate_corpus(SEEDS, tmp_path / "b", 30)
    smaller = generate_corpus(SEEDS, tmp_path / "c", 12)
    assert len(first) == 30 and [p.name for p in first[:2]] == [SEED_A, SEED_B]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert [p.read_bytes() for p in smaller] == [p.read_bytes() for p in first[:12]]
    texts = [p.read_text(encoding="utf-8") for p in first]
    assert len(set(texts)) == 30  # names and figures vary: no two articles alike
    assert texts[0] == (SEEDS / SEED_A).read_text(encoding="utf-8")

    material = seed_sentences(SEEDS)
    templates = {sentence_template(s) for s in material.sentences + material.headlines}
    generated = texts[2:]
    for text in generated:
        headline, *paragraphs = [line for line in text.splitlines() if line.strip()]
        assert sentence_template(headline) in templates
        assert paragraphs and all(_made_of(sentence_template(p), templates) for p in paragraphs)
    # Real sentences, but not the seed articles' names: most articles name other people.
    assert sum("Rubio" not in text for text in generated) > len(generated) * 0.8


def test_bench_writes_results_with_sane_figures_and_a_plot(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSDESK_ARTICLES_DIR", str(SEEDS))
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_LLM", "none")
    out = tmp_path / "bench" / "latest.json"
    code = main(["bench", "--sizes", "8", "--skip-llm", "--out", str(out),
                 "--workdir", str(tmp_path / "work")])
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))

    machine = result["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["ram_gib"] > 0 and machine["date"]
    (row,) = result["scaling"]
    assert row["articles"] == 8
    assert row["passages"] > 8 * 10 and row["words"] > row["passages"]
    # Times and rates are measured figures: a fast machine may round one to 0.0, so each is
    # checked to be there and well formed, never to exceed a speed.
    assert row["index"]["seconds"] >= 0 and row["index"]["passages_per_second"] >= 0
    assert row["embedding_alone"]["passages"] == row["passages"]
    assert row["throughput_ratio"] > 0 and row["cpu_throughput_ratio"] > 0
    assert result["complete"] is True
    assert row["retrieval_ms"]["n"] > 10
    for figure in ("retrieval_ms", "passages_ready_ms", "folder_scan_ms", "evidence_answer_ms"):
        spread = row[figure]
        assert spread["n"] >= 1, figure
        assert 0 <= spread["p50"] <= spread["p95"], (figure, spread)
    assert 0 <= row["retrieval_hit_at_k"] <= 1
    # Indexing and answering each ran in a process of their own, each with its own peak.
    assert row["peak_rss_mib"]["indexing"] > 100 and row["peak_rss_mib"]["answering"] > 100
    assert row["measured"]["commit"] == machine["commit"]
    assert row["store_mib"] > 0
    assert "newsdesk" not in result and "llamaindex" not in result  # --skip-llm
    measured = {t["target"]: t["met"] for t in result["targets"] if t["met"] is not None}
    assert any("retrieval p50" in name for name in measured)
    assert not (tmp_path / "work" / "store-8").exists()  # stores are not left behind

    svg = ElementTree.fromstring((out.parent / "scaling.svg").read_text(encoding="utf-8"))
    assert svg.tag.endswith("svg")


def test_plot_and_targets_of_a_three_size_result():
    def row(articles: int, ms: float, seconds: float, rss: float) -> dict:
        return {"articles": articles, "passages": articles * 25, "throughput_ratio": 0.8,
                "cpu_throughput_ratio": 0.9,
                "retrieval_ms": {"p50": ms}, "passages_ready_ms": {"p50": ms * 2},
                "index": {"seconds": seconds}, "embedding_alone": {"passages_per_second": 100.0},
                "peak_rss_mib": {"indexing": rss, "answering": rss - 100}}

    result = {"scaling": [row(100, 10, 30, 400), row(1000, 20, 300, 600), row(10000, 120, 3000, 1500)],
              "newsdesk": {"standalone": {"summary": {
                  "accuracy": 0.9, "passages_ready_s": {"p50": 0.05}, "first_token_s": {"p50": 2.5},
                  "answer_s": {"p50": 4.0}}}},
              "llamaindex": {"standalone": {"summary": {"accuracy": 0.8, "first_token_s": {"p50": 20.0}}}}}
    svg = ElementTree.fromstring(scaling_svg(result))
    circles = [e for e in svg.iter() if e.tag.endswith("circle")]
    assert len(circles) == 3 * 6  # three sizes, six series
    verdicts = {t["target"]: t["met"] for t in check_targets(result)}
    assert verdicts["retrieval p50 at 10000 articles (ms)"] is False
    assert verdicts["newsdesk peak RSS at 10000 articles (MiB)"] is True
    assert verdicts["first answer token, standalone question, p50 (s)"] is True
    assert verdicts["first token p50: newsdesk / LlamaIndex"] is True
    assert verdicts["accuracy: newsdesk minus LlamaIndex"] is True
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0 and percentile([], 0.5) is None


def test_bench_indexes_with_the_configured_embedding_model(tmp_path, monkeypatch):
    from index.embedding import E5_MODEL_ID

    monkeypatch.setenv("NEWSDESK_ARTICLES_DIR", str(SEEDS))
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_LLM", "none")
    monkeypatch.setenv("NEWSDESK_EMBEDDING_MODEL", "multilingual-e5-small")
    out = tmp_path / "latest.json"
    assert main(["bench", "--sizes", "3", "--skip-llm", "--out", str(out),
                 "--workdir", str(tmp_path / "work")]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    # What the results say, and what the indexing process embedded with.
    assert result["embedding_model"] == result["scaling"][0]["embedding_model"] == E5_MODEL_ID


def test_bench_merge_keeps_the_sizes_and_answers_it_did_not_measure(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_LLM", "none")
    earlier = {"articles": 3000, "passages": 77181, "throughput_ratio": 0.62, "cpu_throughput_ratio": 0.76,
               "retrieval_ms": {"p50": 34.0}, "passages_ready_ms": {"p50": 119.5},
               "index": {"seconds": 871.0}, "embedding_alone": {"passages_per_second": 144.0},
               "retrieval_hit_at_k": 0.57, "peak_rss_mib": {"after_indexing": 1536.5, "after_queries": 1536.5}}
    answers = {"standalone": {"summary": {
        "accuracy": 0.8, "questions": 15, "errors": 0, "passages_ready_s": {"p50": 0.017},
        "first_token_s": {"p50": 1.56}, "answer_s": {"p50": 2.4}}}}
    out = tmp_path / "latest.json"
    out.write_text(json.dumps({"complete": False, "machine": {"commit": "6a1975b", "date": "2026-11-22"},
                               "scaling": [earlier], "newsdesk": answers,
                               "targets": [{"target": "stale", "met": False}]}), encoding="utf-8")
    code = main(["bench", "--sizes", "none", "--skip-llm", "--merge", "--out", str(out),
                 "--workdir", str(tmp_path / "work")])
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    (row,) = result["scaling"]
    assert row["articles"] == 3000 and row["measured"]["commit"] == "6a1975b"
    assert result["newsdesk"] == answers and result["complete"] is True
    assert result["earlier_runs"][0]["kept"] == ["newsdesk"] and result["earlier_runs"][0]["sizes"] == [3000]
    verdicts = {t["target"]: t["met"] for t in result["targets"]}
    assert "stale" not in verdicts and verdicts["newsdesk peak RSS at 3000 articles (MiB)"] is True
    assert (tmp_path / "scaling.svg").exists()


def test_all_questions_are_every_answerable_standalone_and_follow_up_gold_question():
    from qa.evaluation.benchmark import _gold
    from qa.evaluation import default_dataset, load_dataset

    items = load_dataset(default_dataset())
    standalone, followup = _gold(None)
    assert {item.kind for item in standalone} == {"factoid", "disagreement"}
    assert len(standalone) == sum(1 for i in items if i.answerable and not i.history
                                  and i.kind in ("factoid", "disagreement"))
    assert all(item.history for item in followup) and len(followup) == sum(
        1 for i in items if i.kind == "followup")
    first, _ = _gold(5)
    assert [item.question for item in first] == [i.question for i in items if i.kind == "factoid"][:5]
