"""Indexing: content-hash re-indexing, exact offsets, page furniture, refused articles."""

from __future__ import annotations

import json

from index import PassageStore, article_text, build_index
from index.articles import read_article
from index.passages import split_passages
from tests.conftest import SEED_A, SEED_B


def _sources(store: PassageStore) -> list[str]:
    return sorted(p.passage_id for p in store.all_passages())


def test_first_run_indexes_every_seed_article(settings):
    report = build_index(settings)
    assert sorted(report.added) == [SEED_A, SEED_B]
    store = PassageStore(settings)
    assert {p.source for p in store.all_passages()} == {SEED_A, SEED_B}
    assert store.count() > 40  # sentences, not whole articles


def test_a_new_store_builds_its_vector_index_with_the_cheaper_construction_and_cosine(settings):
    build_index(settings)
    hnsw = PassageStore(settings)._collection.configuration["hnsw"]
    assert (hnsw["space"], hnsw["ef_construction"], hnsw["ef_search"]) == ("cosine", 50, 100)


def test_reindex_skips_unchanged_articles(settings):
    build_index(settings)
    before = _sources(PassageStore(settings))
    report = build_index(settings)
    assert (report.added, report.updated, report.removed, report.unchanged) == ([], [], [], 2)
    assert report.passages_embedded == 0
    assert _sources(PassageStore(settings)) == before


def test_changed_article_replaces_only_its_passages(settings, articles_dir):
    build_index(settings)
    store = PassageStore(settings)
    untouched = {p.passage_id: p for p in store.all_passages() if p.source == SEED_B}
    path = articles_dir / SEED_A
    path.write_text("Short replacement story.\nIt has exactly three sentences. The story ends here.\n", encoding="utf-8")

    report = build_index(settings)
    assert report.updated == [SEED_A] and report.unchanged == 1
    store = PassageStore(settings)
    rows = store.all_passages()
    assert [p.text for p in rows if p.source == SEED_A] == [
        "Short replacement story.", "It has exactly three sentences.", "The story ends here."
    ]
    assert {p.passage_id: p for p in rows if p.source == SEED_B} == untouched
    assert len(rows) == len({p.passage_id for p in rows})  # no duplicates


def test_deleted_article_is_removed_from_the_store(settings, articles_dir):
    build_index(settings)
    (articles_dir / SEED_A).unlink()
    report = build_index(settings)
    assert report.removed == [SEED_A]
    store = PassageStore(settings)
    assert {p.source for p in store.all_passages()} == {SEED_B}
    assert store.keyword_search("Khalil Al-Hayya", 5) == []  # only seed A names him


def test_keyword_index_keeps_ids_not_passages_and_an_older_one_is_rebuilt(settings):
    build_index(settings)
    store = PassageStore(settings)
    assert [pid for pid, _ in store.keyword_search("Khalil Al-Hayya", 5)] == [f"{SEED_A}#7"]
    files = {path.name for path in store.keyword_dir.iterdir()}
    assert "passage_ids.json" in files and not any(name.startswith("corpus") for name in files)
    # An index without the id list (llama-index's BM25Retriever wrote those) is built again.
    (store.keyword_dir / "passage_ids.json").unlink()
    older = PassageStore(settings)
    assert older.manifest.keyword_index_stale and older.keyword_search("Khalil Al-Hayya", 5) == []
    build_index(settings, older)
    assert [pid for pid, _ in older.keyword_search("Khalil Al-Hayya", 5)] == [f"{SEED_A}#7"]


def test_offsets_index_the_article_text_exactly(settings, articles_dir):
    (articles_dir / "page.html").write_text(
        "<html><head><title>Harbour reopens after storm</title></head><body><nav>Home | World</nav>"
        "<article><h1>Harbour reopens after storm</h1><p>The harbour of Port Elin reopened on "
        "Monday, officials said. Ships had waited for nine days.</p><p>Fishermen said the "
        "storm destroyed 40 boats in total.</p></article><script>var x = 1;</script></body></html>",
        encoding="utf-8",
    )
    (articles_dir / "latin1.txt").write_bytes(
        "Café owners in Québec protested on Tuesday. They want lower taxes.\n".encode("latin-1")
    )
    build_index(settings)
    rows = PassageStore(settings).all_passages()
    texts = {}
    for passage in rows:
        if passage.source not in texts:
            texts[passage.source] = article_text(passage.source, settings)
        assert texts[passage.source][passage.start : passage.end] == passage.text
    # For UTF-8 text files the offsets index the file as Python reads it.
    assert texts[SEED_A] == (articles_dir / SEED_A).read_text(encoding="utf-8")
    assert "Café owners in Québec protested on Tuesday." in {p.text for p in rows}
    assert not any("var x" in p.text for p in rows)


def test_page_furniture_is_neither_indexed_nor_citable(settings):
    build_index(settings)
    texts = [p.text for p in PassageStore(settings).all_passages()]
    for furniture in ("Leave a Comment", "Your email address", "Scroll to Top", "Read: ", "Read also:"):
        assert not any(furniture in text for text in texts), furniture


def test_titles_come_from_the_headline_or_first_sentence(settings, articles_dir):
    article_b = read_article(articles_dir / SEED_B, SEED_B, settings.max_article_bytes)
    assert article_b.title == "Pakistan open to Gaza stabilization force (Rubio)"
    assert article_b.published == "2025-12-19"
    article_a = read_article(articles_dir / SEED_A, SEED_A, settings.max_article_bytes)
    assert article_a.title.startswith("ISLAMABAD: The United States (US) is grateful")
    assert len(article_a.title) <= 80


def test_bad_articles_are_refused_with_a_reason_and_the_rest_indexed(make_settings, articles_dir):
    settings = make_settings(max_article_bytes=100_000)
    (articles_dir / "empty.txt").write_text("   \n", encoding="utf-8")
    (articles_dir / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (articles_dir / "huge.txt").write_text("word " * 40_000, encoding="utf-8")
    report = build_index(settings)
    assert sorted(report.added) == [SEED_A, SEED_B]
    assert "empty" in report.refused["empty.txt"]
    assert "binary" in report.refused["binary.txt"]
    assert "limit" in report.refused["huge.txt"]


def test_a_line_without_punctuation_becomes_quotable_passages(settings, articles_dir):
    words = " ".join(f"word{i}" for i in range(500))
    (articles_dir / "one-line.txt").write_text(words, encoding="utf-8")
    article = read_article(articles_dir / "one-line.txt", "one-line.txt", settings.max_article_bytes)
    passages = split_passages(article)
    assert len(passages) >= 8
    assert all(len(p.text.split()) <= 60 for p in passages)
    assert all(article.text[p.start : p.end] == p.text for p in passages)


def test_a_different_embedding_model_means_a_rebuild(settings):
    build_index(settings)
    manifest_path = settings.data_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["embedding_model"] = "some-other-model"
    manifest_path.write_text(json.dumps(manifest))
    report = build_index(settings)
    assert sorted(report.added) == [SEED_A, SEED_B]  # rebuilt, not mixed
    rows = PassageStore(settings).all_passages()
    assert len(rows) == len({p.passage_id for p in rows})


def test_an_interrupted_run_is_completed_without_duplicates(settings):
    build_index(settings)
    count = PassageStore(settings).count()
    # As if the process died after writing seed A's passages but before recording them.
    manifest_path = settings.data_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["articles"][SEED_A]
    manifest_path.write_text(json.dumps(manifest))
    report = build_index(settings)
    assert report.added == [SEED_A]
    assert PassageStore(settings).count() == count


def test_a_very_long_article_is_written_in_batches_chroma_accepts(settings):
    import numpy as np

    from index.store import MAX_WRITE_BATCH, StoredPassage

    store = PassageStore(settings)
    rows = [
        StoredPassage(f"long.txt#{i}", "long.txt", i, i * 10, i * 10 + 9, f"sentence {i}", "Long", None, None)
        for i in range(MAX_WRITE_BATCH + 2000)
    ]
    vectors = np.random.default_rng(0).normal(size=(len(rows), 384)).astype(np.float32)
    store.add_passages(rows, vectors)
    assert store.count() == len(rows)


def test_the_store_counts_once_until_it_writes_and_then_counts_again(settings, articles_dir):
    # Chroma counts by reading its tables (tens of ms at newsroom scale) and every question asks.
    store = PassageStore(settings)
    assert store.count() == 0
    build_index(settings, store)
    total = store.count()
    assert total > 40

    asked = []
    real_count = store._collection.count
    store._collection.count = lambda: asked.append(1) or real_count()
    assert [store.count() for _ in range(3)] == [total] * 3
    assert asked == []  # kept since the last write

    (articles_dir / SEED_A).unlink()
    build_index(settings, store)  # deletes the article's passages: the kept count is forgotten
    fewer = store.count()
    assert asked == [1] and 0 < fewer < total
    assert fewer == PassageStore(settings).count()


def test_a_renamed_collection_is_indexed_afresh_and_the_first_one_adopted_back(settings, make_settings):
    build_index(settings)
    renamed = make_settings(chroma_collection="renamed")  # the same data folder
    assert sorted(build_index(renamed).added) == [SEED_A, SEED_B]
    back = build_index(settings)  # its collection is still there, with the articles' records
    assert (back.added, back.removed, back.unchanged, back.passages_embedded) == ([], [], 2, 0)
    assert [pid for pid, _ in PassageStore(settings).keyword_search("Khalil Al-Hayya", 5)] == [f"{SEED_A}#7"]


HARBOUR = ("Harbour reopens after storm\n\nThe harbour of Port Elin reopened on Monday, officials "
           "said. Ships had waited for nine days. Fishermen said the storm destroyed 40 boats.\n")
KEYWORD_QUERIES = ("Khalil Al-Hayya", "Tahir Andrabi spokesperson", "harbour storm boats",
                   "Gaza stabilization force Pakistan", "ceasefire", "the of and", "zzzz unknown")


def _keyword_state(store: PassageStore):
    files = {path.name: path.read_bytes() for path in sorted(store.keyword_dir.iterdir())
             if path.name != "stamp.txt"}  # new at every save
    searches = {query: store.keyword_search(query, 50) for query in KEYWORD_QUERIES}
    return files, searches, store.word_rarity({"harbour", "gaza", "pakistan", "storm"})


def test_keyword_index_updated_article_by_article_equals_a_full_rebuild(settings, articles_dir):
    (articles_dir / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    store = PassageStore(settings)
    build_index(settings, store)
    read = []
    rows_of = store._keyword_rows
    store._keyword_rows = lambda sources: read.append(sources) or rows_of(sources)
    changes = [
        ("added", lambda: (articles_dir / "ferry.txt").write_text(
            "Ferry service resumes. The ferry to Port Elin sails again after the storm.\n", encoding="utf-8")),
        ("updated", lambda: (articles_dir / SEED_A).write_text(
            (articles_dir / SEED_A).read_text(encoding="utf-8") + "\nThe harbour storm closed Gaza's port.\n",
            encoding="utf-8")),
        ("removed", lambda: (articles_dir / "harbour.txt").unlink()),
    ]
    for kind, change in changes:
        change()
        read.clear()
        report = build_index(settings, store)
        touched = getattr(report, kind)
        assert len(touched) == 1 and read == [touched]  # only that article's passages were read
        updated = _keyword_state(store)
        store.rebuild_keyword_index()  # every passage, read and tokenized afresh
        assert read[-1] is None
        rebuilt = _keyword_state(store)
        assert updated[1] == rebuilt[1] and updated[2] == rebuilt[2], kind  # ids and scores
        assert updated[0] == rebuilt[0], kind  # the very same files
    found = {pid.rpartition("#")[0] for pid, _ in store.keyword_search("harbour storm ferry boats", 50)}
    assert {"ferry.txt", SEED_A} <= found and "harbour.txt" not in found


def test_keyword_scores_are_those_bm25s_computes(settings, articles_dir):
    import bm25s
    import numpy as np

    from index.keywords import TOKEN_PATTERN, _stemmer

    (articles_dir / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    store = PassageStore(settings)
    build_index(settings, store)
    index = store._keyword_index()
    rows = store._keyword_rows(None)
    text_of = dict(zip(rows.passage_ids, rows.texts))
    reference = bm25s.BM25()
    reference.index(bm25s.tokenize([text_of[pid] for pid in index.passage_ids], stopwords="english",
                                   stemmer=_stemmer(), token_pattern=TOKEN_PATTERN, show_progress=False),
                    show_progress=False)
    ours, theirs = index.model, reference
    assert ours.scores["num_docs"] == theirs.scores["num_docs"] == len(index.passage_ids)
    assert set(ours.vocab_dict) == set(theirs.vocab_dict)
    for token, column in theirs.vocab_dict.items():
        if not token:
            continue
        mine = ours.vocab_dict[token]
        span = slice(ours.scores["indptr"][mine], ours.scores["indptr"][mine + 1])
        their_span = slice(theirs.scores["indptr"][column], theirs.scores["indptr"][column + 1])
        assert np.array_equal(ours.scores["indices"][span], theirs.scores["indices"][their_span]), token
        assert ours.scores["data"][span].tobytes() == theirs.scores["data"][their_span].tobytes(), token


def test_a_keyword_index_another_process_replaced_is_built_whole(settings, articles_dir):
    build_index(settings)
    page = PassageStore(settings)  # a page, holding the index in memory
    assert page.keyword_search("Khalil Al-Hayya", 5)
    (articles_dir / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    build_index(settings)  # `newsdesk index` in another process: new files on disk
    (articles_dir / "ferry.txt").write_text("The ferry to Port Elin sails again.\n", encoding="utf-8")
    read = []
    rows_of = page._keyword_rows
    page._keyword_rows = lambda sources: read.append(sources) or rows_of(sources)
    build_index(settings, page)
    assert read == [None]  # not an update of what it held in memory
    found = {pid.rpartition("#")[0] for pid, _ in page.keyword_search("harbour ferry Port Elin", 10)}
    assert {"harbour.txt", "ferry.txt"} <= found


def test_the_passages_of_an_article_longer_than_sqlites_limit_are_read(settings):
    # A news set's 500 articles hold 58,000 sentences; read in one statement they passed SQLite's
    # limit of variables ("too many SQL variables") when a new field was written to every article.
    import numpy as np

    from index.store import StoredPassage

    store = PassageStore(settings)
    count = 33_000  # SQLite allows 32,766 variables in a statement
    vectors = np.zeros((count, 384), dtype=np.float32)
    vectors[:, 0] = 1.0
    rows = [StoredPassage(f"long.txt#{i}", "long.txt", i, i * 10, i * 10 + 9, f"sentence {i}",
                         "Long", None, None) for i in range(count)]
    store.add_passages(rows, vectors)
    spans = store.stored_spans(["long.txt"])["long.txt"]
    assert len(spans) == count
    assert [ordinal for ordinal, *_ in spans] == list(range(count))
