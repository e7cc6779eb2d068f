"""The Chroma server path: a real `chroma run` on loopback instead of the embedded store."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from index import PassageStore, StoreError, build_index
from index.settings import SettingsError
from qa import ask
from tests.conftest import SEED_A, SEED_B
from tests.test_ask import assert_contract


@pytest.fixture
def chroma_url(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    log = (tmp_path / "chroma.log").open("wb")
    server = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server-data"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1, trust_env=False).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        pytest.fail("chroma run did not start:\n" + (tmp_path / "chroma.log").read_text())
    yield url
    server.terminate()
    server.wait(timeout=20)


def test_indexing_and_ask_against_a_chroma_server(make_settings, chroma_url, tmp_path):
    settings = make_settings(chroma_url=chroma_url)
    report = build_index(settings)
    assert len(report.added) == 2
    assert not (settings.data_dir / "chroma").exists()  # the vectors live in the server
    assert PassageStore(settings).count() > 40
    assert build_index(settings).unchanged == 2  # re-indexing through the server skips unchanged
    answer = ask("Who is the spokesperson of Pakistan's Foreign Ministry?", settings=settings)
    assert_contract(answer, settings)
    assert any("Tahir Andrabi" in c.quote and c.source == SEED_B for c in answer.citations)


def test_an_unreachable_chroma_server_is_a_clear_message(make_settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError, match="could not be reached"):
        PassageStore(make_settings(chroma_url=f"http://127.0.0.1:{port}"))


def _passage_ids(settings) -> list[str]:
    return sorted(p.passage_id for p in PassageStore(settings).all_passages())


def test_a_second_newsdesk_with_an_empty_data_folder_adopts_the_collection(make_settings, chroma_url,
                                                                          tmp_path):
    first = make_settings(chroma_url=chroma_url)
    build_index(first)
    stored = _passage_ids(first)

    # The same articles, a new host or container: nothing embedded again, nothing deleted.
    second = make_settings(chroma_url=chroma_url, data_dir=tmp_path / "second-data")
    report = build_index(second)
    assert (report.added, report.updated, report.removed, report.unchanged) == ([], [], [], 2)
    assert report.passages_embedded == 0
    assert not any(record.adopted for record in PassageStore(second).manifest.articles.values())
    assert [pid for pid, _ in PassageStore(second).keyword_search("Khalil Al-Hayya", 5)] == [f"{SEED_A}#7"]
    answer = ask("Who is the spokesperson of Pakistan's Foreign Ministry?", settings=second)
    assert_contract(answer, second)
    assert any("Tahir Andrabi" in c.quote and c.source == SEED_B for c in answer.citations)

    # A page with no articles of its own answers from the collection and deletes none of them.
    no_articles = tmp_path / "no-articles"
    no_articles.mkdir()
    reader = make_settings(chroma_url=chroma_url, data_dir=tmp_path / "reader-data",
                           articles_dir=no_articles)
    report = build_index(reader)
    assert not report.changed and report.passages_embedded == 0
    assert sorted(PassageStore(reader).manifest.articles) == [SEED_A, SEED_B]
    answer = ask("Who is the spokesperson of Pakistan's Foreign Ministry?", settings=reader)
    assert any("Tahir Andrabi" in c.quote and c.source == SEED_B for c in answer.citations)
    assert _passage_ids(first) == stored
    assert build_index(reader).removed == []  # and not at the next run either
    assert _passage_ids(first) == stored
    assert build_index(first).unchanged == 2


def test_a_collection_written_before_records_were_kept_is_adopted_without_embedding(
        make_settings, chroma_url, tmp_path):
    first = make_settings(chroma_url=chroma_url)
    build_index(first)
    stored = _passage_ids(first)
    # As an older newsdesk left it: article signatures without the articles' records.
    PassageStore(first)._articles.delete(ids=[SEED_A, SEED_B])

    second = make_settings(chroma_url=chroma_url, data_dir=tmp_path / "second-data")
    adopted = PassageStore(second).manifest.articles
    assert sorted(adopted) == [SEED_A, SEED_B] and all(r.content_hash == "" for r in adopted.values())
    report = build_index(second)
    assert report.passages_embedded == 0 and not report.removed  # compared, found the same
    assert all(r.content_hash for r in PassageStore(second).manifest.articles.values())
    assert _passage_ids(first) == stored
    # ... and the records are back in the collection, for the next newsdesk to adopt.
    third = PassageStore(make_settings(chroma_url=chroma_url, data_dir=tmp_path / "third-data"))
    assert sorted(third.manifest.articles) == [SEED_A, SEED_B]
    assert all(r.content_hash for r in third.manifest.articles.values())


def test_two_collection_names_on_one_server_stay_separate(make_settings, chroma_url, tmp_path,
                                                          articles_dir):
    newsroom = make_settings(chroma_url=chroma_url)
    build_index(newsroom)
    stored = _passage_ids(newsroom)
    sport_articles = tmp_path / "sport-articles"
    sport_articles.mkdir()
    shutil.copy(articles_dir / SEED_A, sport_articles / SEED_A)
    sport = make_settings(chroma_url=chroma_url, chroma_collection="sport-desk",
                          articles_dir=sport_articles, data_dir=tmp_path / "sport-data")

    assert build_index(sport).added == [SEED_A]
    assert {p.source for p in PassageStore(sport).all_passages()} == {SEED_A}
    assert PassageStore(sport).keyword_search("Tahir Andrabi", 5) == []  # seed B is the newsroom's
    (sport_articles / SEED_A).unlink()
    assert build_index(sport).removed == [SEED_A]
    assert PassageStore(sport).count() == 0
    assert _passage_ids(newsroom) == stored  # the other collection, untouched


def test_another_embedding_model_on_a_shared_collection_is_refused_not_wiped(make_settings,
                                                                             chroma_url, tmp_path):
    first = make_settings(chroma_url=chroma_url)
    build_index(first)
    stored = _passage_ids(first)
    for data_dir in (first.data_dir, tmp_path / "e5-data"):  # its own manifest or none
        e5 = make_settings(chroma_url=chroma_url, data_dir=data_dir,
                           embedding_model="multilingual-e5-small")
        with pytest.raises(StoreError, match="NEWSDESK_CHROMA_COLLECTION") as refused:
            PassageStore(e5)
        assert "newsdesk_passages" in str(refused.value) and "all-MiniLM-L6-v2" in str(refused.value)
    assert _passage_ids(first) == stored
    assert build_index(first).unchanged == 2


def test_a_collection_name_chroma_would_refuse_is_a_clear_message(make_settings, chroma_url):
    for bad in ("news desk", "-desk", "news..desk", "desk/2", "x" * 504):
        with pytest.raises(SettingsError, match="NEWSDESK_CHROMA_COLLECTION: .*cannot name a Chroma collection"):
            make_settings(chroma_collection=bad)
    # The limits are Chroma's own: the shortest and the longest names it takes.
    for good in ("a", "x" * 503):
        store = PassageStore(make_settings(chroma_url=chroma_url, chroma_collection=good))
        assert store.count() == 0
    assert make_settings(chroma_collection="").chroma_collection == "newsdesk"  # blank: the default
