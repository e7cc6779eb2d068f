"""The same story told twice: grouped at indexing, shown together, cited as corroboration; and a
question in English finding articles in French or Urdu with the multilingual embedding model."""

from __future__ import annotations

import json

from index import PassageStore, build_index
from index.stories import groups_of
from qa import ask
from qa.evaluation.stories import default_story_set, evaluate_stories, load_story_set
from tests.conftest import SEED_A, SEED_B
from tests.test_ask import assert_contract

# Written for these tests. A third outlet's report of the seeds' story, in its own words.
WIRE_COPY = """US thanks Pakistan for considering Gaza force role

WASHINGTON: Secretary of State Marco Rubio said on Friday the United States was very grateful to Pakistan for offering to consider taking part in the international stabilization force for Gaza.
"We're very grateful to Pakistan for their offer to be a part of it, or at least their offer to consider being a part of it," Rubio told a year-end news conference at the State Department.
He said the countries willing to send troops wanted to know the force's mandate, its funding and its rules of engagement before committing, and that the next step was to announce the Board of Peace and a Palestinian technocratic group to govern Gaza day to day.
Pakistan has said it could join a peacekeeping role but would not take part in disarming Hamas.
"""
# Same topic, another event: the planning conference announced days before the seeds' story.
DOHA_PLANS = """Doha to host planning talks on Gaza force

U.S. Central Command will host a planning conference in Doha next Tuesday on the international stabilization force for Gaza, two U.S. officials said on Saturday.
Representatives of more than 25 countries are expected to attend the meeting, which will discuss the command structure of the force, its size and where its troops would be housed and trained.
The officials said the force could deploy as early as next month, first in areas held by the Israeli military, and would not fight Hamas.
"""
BAKERY = """Village bakery wins regional bread prize

A small bakery in the village of Hollins won the regional prize for its sourdough loaf on Saturday.
The owner said the recipe had been in her family for three generations and that the oven was built by her grandfather.
"""
# Translations of seed B's sentences (made for these tests): French, and Urdu.
FRENCH = """Le Pakistan n'a pas encore pris de décision sur l'envoi de troupes à Gaza

Le porte-parole du ministère des Affaires étrangères, Tahir Andrabi, a déclaré que le Pakistan n'avait pas encore décidé s'il fournirait des soldats à la force de stabilisation, ajoutant que les discussions restaient exploratoires et ne constituaient pas un engagement définitif.
Selon des responsables américains, le département d'État a contacté plus de 70 pays pour leur demander des troupes ou un soutien financier.
"""
URDU = """پاکستان کا غزہ فورس کے بارے میں ابھی کوئی فیصلہ نہیں

دفتر خارجہ کے ترجمان طاہر اندرابی نے کہا کہ پاکستان نے ابھی یہ فیصلہ نہیں کیا کہ وہ استحکام فورس میں فوجی بھیجے گا یا نہیں۔
انہوں نے کہا کہ بات چیت ابھی ابتدائی مرحلے میں ہے اور یہ کوئی حتمی وعدہ نہیں ہے۔
"""


def test_two_reports_of_one_story_are_grouped_and_other_news_kept_apart(settings, articles_dir):
    (articles_dir / "wire-copy.txt").write_text(WIRE_COPY, encoding="utf-8")
    (articles_dir / "doha-plans.txt").write_text(DOHA_PLANS, encoding="utf-8")
    (articles_dir / "bakery.txt").write_text(BAKERY, encoding="utf-8")
    build_index(settings)
    stories = PassageStore(settings).stories  # as saved, read by a new process
    assert stories.groups() == [sorted([SEED_A, SEED_B, "wire-copy.txt"])]
    assert stories.tellers(SEED_A) == [SEED_B, "wire-copy.txt"]
    assert stories.tellers("doha-plans.txt") == [] and stories.story_number("bakery.txt") is None


def test_stories_are_worked_out_again_as_articles_change(settings, articles_dir):
    (articles_dir / "wire-copy.txt").write_text(WIRE_COPY, encoding="utf-8")
    build_index(settings)
    store = PassageStore(settings)
    assert store.stories.groups() == [sorted([SEED_A, SEED_B, "wire-copy.txt"])]
    seed_a = (articles_dir / SEED_A).read_text(encoding="utf-8")

    # Seed A is what links the other two (each is close to it, not to each other): without it
    # they are two stories of one article, so no story at all.
    (articles_dir / SEED_A).unlink()
    build_index(settings, store)
    assert store.stories.groups() == []
    assert json.loads((settings.data_dir / "stories.json").read_text())["links"].keys() == {
        SEED_B, "wire-copy.txt"}

    (articles_dir / SEED_A).write_text(seed_a, encoding="utf-8")
    build_index(settings, store)
    assert store.stories.groups() == [sorted([SEED_A, SEED_B, "wire-copy.txt"])]

    (articles_dir / SEED_A).write_text(BAKERY, encoding="utf-8")  # now another story altogether
    report = build_index(settings, store)
    assert report.updated == [SEED_A]
    assert PassageStore(settings).stories.groups() == []


def test_a_store_built_before_stories_gets_them_at_the_next_run(settings):
    build_index(settings)
    (settings.data_dir / "stories.json").unlink()
    store = PassageStore(settings)
    store._articles.delete(ids=[SEED_A, SEED_B])  # as if no signature had been kept
    report = build_index(settings, store)
    assert not report.changed
    assert store.stories.groups() == [[SEED_A, SEED_B]]


def test_a_story_never_spans_more_than_a_few_days():
    # An undated report close to both the earthquake's and the aftershock's (four days later)
    # must not chain them into one story.
    links = {"quake": {"undated": 0.9}, "undated": {"quake": 0.9, "aftershock": 0.88},
             "aftershock": {"undated": 0.88}}
    published = {"quake": "2025-12-08", "aftershock": "2025-12-12", "undated": None}
    assert groups_of(links, published) == [["quake", "undated"]]
    assert groups_of(links) == [["aftershock", "quake", "undated"]]  # without dates, one chain


def test_grouping_on_real_articles_keeps_its_measured_precision():
    # 35 real reports of 10 events from many outlets (signatures only): the figures in README.
    items = load_story_set(default_story_set())
    assert len(items) == 35 and len({item.event for item in items}) == 10
    minilm = evaluate_stories(items, "minilm")
    e5 = evaluate_stories(items, "multilingual-e5-small")
    assert minilm["precision"] >= 0.9 and minilm["recall"] >= 0.85
    assert e5["precision"] >= 0.95 and e5["recall"] >= 0.7
    assert evaluate_stories(items, "minilm", use_dates=False)["precision"] < minilm["precision"]


def test_answer_says_which_articles_report_a_statement(settings):
    from ui.app import plain_answer, render_answer

    answer = ask("Is the US grateful for Pakistan's offer?", settings=settings)
    assert_contract(answer, settings)
    assert answer.corroborations
    for corroboration in answer.corroborations:
        assert sorted(corroboration.sources) == [SEED_A, SEED_B]
        quoted = {c.number: c for c in answer.citations}
        assert {quoted[n].source for n in corroboration.citations} == {SEED_A, SEED_B}
        assert all(f"[{n}]" in answer.text for n in corroboration.citations)
        assert corroboration.reported_by.startswith("Reported by both “")
    assert "Reported by both" in render_answer(answer) and "Reported by both" in plain_answer(answer)


def test_tellings_that_disagree_are_no_corroboration(settings):
    answer = ask("How many countries attended the conference in Qatar?", settings=settings)
    assert answer.disagreements and not answer.corroborations


def test_articles_view_shows_each_story_together(settings, articles_dir):
    from ui.app import render_articles

    (articles_dir / "bakery.txt").write_text(BAKERY, encoding="utf-8")
    build_index(settings)
    store = PassageStore(settings)
    page = render_articles(list(store.manifest.articles.values()), store.stories.groups())
    rows = page.split("<tr>")[2:]
    assert ["Story 1 (2 articles)" in row for row in rows] == [True, True, False]
    assert "bakery.txt" in rows[2]


def _multilingual_folder(articles_dir):
    for seed in (SEED_A, SEED_B):
        (articles_dir / seed).unlink()
    (articles_dir / "rapport-fr.txt").write_text(FRENCH, encoding="utf-8")
    (articles_dir / "khabar-ur.txt").write_text(URDU, encoding="utf-8")
    (articles_dir / "bakery.txt").write_text(BAKERY, encoding="utf-8")


def test_an_english_question_finds_french_and_urdu_articles_with_e5(make_settings, articles_dir):
    from qa.pipeline import engine_for
    from qa.retrieval import retrieve

    _multilingual_folder(articles_dir)
    e5 = make_settings(embedding_model="multilingual-e5-small")
    answer = ask("How many countries did the State Department contact?", settings=e5)
    assert not answer.abstained
    assert [c.source for c in answer.citations] == ["rapport-fr.txt"] and "70 pays" in answer.citations[0].quote
    urdu = retrieve(engine_for(e5).store, "Has Pakistan decided whether to send soldiers to the "
                    "stabilization force?", 4)
    assert any(p.source == "khabar-ur.txt" and p.score >= e5.min_relevance for p in urdu.passages)

    # The English model does not read them: the same question is not answered.
    minilm = make_settings(data_dir=e5.data_dir.with_name("minilm-data"))
    assert ask("How many countries did the State Department contact?", settings=minilm).abstained


def test_changing_the_embedding_model_rebuilds_the_index_and_says_so(make_settings):
    from index.embedding import E5_MODEL_ID, EMBEDDING_MODEL_ID

    build_index(make_settings())
    e5 = make_settings(embedding_model="multilingual-e5-small")
    report = build_index(e5)
    assert sorted(report.added) == [SEED_A, SEED_B]
    assert EMBEDDING_MODEL_ID in report.summary() and E5_MODEL_ID in report.summary()
    assert "rebuilding" in report.summary()
    store = PassageStore(e5)
    assert store.manifest.embedding_model == E5_MODEL_ID
    assert len(store.all_passages()) == len({p.passage_id for p in store.all_passages()})
    assert store.stories.model_id == E5_MODEL_ID and store.stories.groups() == [[SEED_A, SEED_B]]
    again = build_index(e5)
    assert not again.changed and again.rebuilt_because is None
