"""The chat page in a real headless Chromium, as a reader uses it: ask, read the evidence, add articles."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from index import article_text, load_settings
from tests.conftest import SEED_A, SEED_B, SEEDS
from ui.page_process import CHROMIUM_FLAGS, running_page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LANTERN = ("Lake Varna lantern festival\n\nThe Lake Varna lantern festival drew 7,412 visitors on "
           "Sunday, organisers said.\nThe lanterns were made of recycled paper.\n")
LANTERN_QUESTION = "How many visitors did the Lake Varna lantern festival draw?"


def _serve(tmp_path, articles_dir, **settings):
    """`newsdesk chat` (evidence mode unless `llm` is given); yield its URL, stop it afterwards,
    and fail if its console output, through its shutdown, holds a traceback."""
    settings.setdefault("llm", "none")
    with running_page(articles_dir, tmp_path, **settings) as url:
        yield url
    assert_no_traceback(tmp_path / "page.log")


def assert_no_traceback(log_path: Path) -> None:
    # A page error (a handler returning the wrong outputs, a failed event) is only ever seen here.
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback (most recent call last)" not in log, log[-6000:]


@pytest.fixture
def page_url(tmp_path, articles_dir):
    yield from _serve(tmp_path, articles_dir)


@pytest.fixture(scope="module")
def seeds_page(tmp_path_factory):
    """One page over the two seed articles for the tests that only read (a start costs ~15 s)."""
    folder = tmp_path_factory.mktemp("seeds-page")
    articles = folder / "articles"
    articles.mkdir()
    for seed in (SEED_A, SEED_B):
        shutil.copy(SEEDS / seed, articles / seed)
    for url in _serve(folder, articles):
        yield SimpleNamespace(url=url, settings=load_settings(articles_dir=articles,
                                                              data_dir=folder / "data"))


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium for this test"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


def _open(browser, url: str, width: int = 1280, height: int = 900, **context):
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": width, "height": height}, **context).new_page()
    page.goto(url)
    expect(page.locator("#nd-index-status")).to_contain_text("articles", timeout=30_000)
    return page


def _ask(page, question: str):
    """Ask and wait for the finished answer (its timing line); return the answer's element."""
    from playwright.sync_api import expect

    count = page.locator('[data-testid="bot"]').count()
    box = page.locator("#nd-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator('[data-testid="bot"]')).to_have_count(count + 1, timeout=30_000)
    answer = page.locator('[data-testid="bot"]').last
    expect(answer).to_contain_text("Answered", timeout=60_000)
    return answer


def _place(link) -> tuple[str, int, int]:
    """(article id, start, end) that a citation link opens."""
    _, start, end, _, source = link.get_attribute("href").split("/", 4)
    return unquote(source), int(start), int(end)


def _articles_tab(page):
    page.get_by_role("tab", name="Articles").click()


def _chat_tab(page):
    page.get_by_role("tab", name="Chat").click()


def test_article_text_never_becomes_html_on_the_page(settings, articles_dir):
    from index import PassageStore, build_index
    from qa import ask
    from ui.app import quote_digest, render_answer, render_passages, render_reader

    (articles_dir / "tags.txt").write_text(
        "Harbour notes\n\nThe harbour master wrote <img src=x onerror=alert(1)> on the Elin board "
        "and signed it **Kay** [1].\n", encoding="utf-8")
    build_index(settings)
    answer = ask("What did the harbour master write on the Elin board?", settings=settings)
    citation = next(c for c in answer.citations if c.source == "tags.txt")
    record = PassageStore(settings).manifest.articles["tags.txt"]
    reader = render_reader(settings, record, citation.source, citation.start, citation.end,
                           quote_digest(citation.quote))
    for shown in (render_answer(answer), render_passages(answer.passages), reader):
        assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert f'<mark id="nd-mark">{html.escape(citation.quote)}</mark>' in reader


def test_the_reader_does_not_highlight_an_article_changed_since_the_answer(settings, articles_dir):
    from index import PassageStore, build_index
    from ui.app import quote_digest, render_reader

    build_index(settings)
    record = PassageStore(settings).manifest.articles[SEED_B]
    text = article_text(SEED_B, settings)
    start = text.index("Foreign Ministry spokesperson")
    digest = quote_digest(text[start : start + 40])
    assert "nd-mark" in render_reader(settings, record, SEED_B, start, start + 40, digest)
    (articles_dir / SEED_B).write_text("Rewritten.\n" + text, encoding="utf-8")
    changed = render_reader(settings, record, SEED_B, start, start + 40, digest)
    assert "nd-mark" not in changed and "changed since this answer" in changed
    assert "not an indexed article" in render_reader(settings, None, "../secret.txt", 0, 4, digest)


def test_the_reader_opens_an_article_of_another_newsdesk_from_its_indexed_sentences(
        settings, make_settings, tmp_path):
    from index import PassageStore, build_index
    from ui.app import quote_digest, render_reader

    build_index(settings)
    # A data folder that knows another collection and has none of the article files: coming back
    # to the first collection, it adopts that collection's articles, as from a shared server.
    (tmp_path / "elsewhere").mkdir()
    build_index(make_settings(articles_dir=tmp_path / "elsewhere", chroma_collection="other"))
    second = make_settings(articles_dir=tmp_path / "elsewhere")
    store = PassageStore(second)
    report = build_index(second, store)
    assert "0 added, 0 updated, 0 removed, 0 unchanged, 2 of other newsdesks" in report.summary()
    record = store.manifest.articles[SEED_B]
    assert record.adopted
    text = article_text(SEED_B, settings)
    start = text.index("Foreign Ministry spokesperson")
    end = text.index(".", start) + 1
    quote = text[start:end]
    assert article_text(SEED_B, second, store)[start:end] == quote
    reader = render_reader(second, record, SEED_B, start, end, quote_digest(quote), store)
    assert f'<mark id="nd-mark">{html.escape(quote)}</mark>' in reader
    assert "indexed by another newsdesk" in reader
    # Without the store (or for an article of its own that is gone) it still says it cannot.
    assert "cannot be read" in render_reader(second, record, SEED_B, start, end, quote_digest(quote))


def test_page_answers_with_the_quoted_source_and_abstains_off_topic(seeds_page, browser):
    from playwright.sync_api import expect

    page = _open(browser, seeds_page.url)
    expect(page.locator("#nd-status")).to_contain_text("Model: none")

    answer = _ask(page, "Who is the spokesperson of Pakistan's Foreign Ministry?")
    expect(answer).to_contain_text("Sources")
    expect(answer).to_contain_text("Tahir Andrabi")
    expect(answer).to_contain_text(re.compile(r"in \d+\.\d s"))  # the time the answer took
    first_link = answer.locator("a").first  # the marker itself is the answer's first link
    expect(first_link).to_have_text("[1]")
    expect(page.locator("#nd-passages")).to_contain_text("Passages found")

    off_topic = _ask(page, "What is the capital of France?")
    expect(off_topic).to_contain_text("don't say")
    expect(off_topic.locator("a.nd-cite")).to_have_count(0)

    page.locator("#nd-new-chat").click()
    expect(page.locator('[data-testid="bot"]')).to_have_count(0, timeout=10_000)


def test_the_page_answering_with_the_default_model_logs_no_traceback(tmp_path, articles_dir, browser):
    # The bundled 1.5B model, as `make run` serves it; the page stays open past several polls
    # of the Articles view (every 3 s), which once logged a traceback each time.
    from playwright.sync_api import expect

    for url in _serve(tmp_path, articles_dir, llm="local"):
        page = _open(browser, url)
        expect(page.locator("#nd-status")).to_contain_text("qwen2.5-coder-1.5b", timeout=60_000)
        box = page.locator("#nd-question textarea")
        box.fill("Who is the spokesperson of Pakistan's Foreign Ministry?")
        box.press("Enter")
        answer = page.locator('[data-testid="bot"]').last
        expect(answer).to_contain_text("Answered", timeout=300_000)  # loads the model first
        assert not re.search(r"[\[(][A-Z][\]),]", answer.inner_text())  # no prompt label shown
        _articles_tab(page)
        expect(page.locator("#nd-index-status")).to_contain_text("articles")
        page.wait_for_timeout(10_000)  # several polls of the Articles view
        page.close()


def test_a_citation_opens_its_article_with_the_passage_highlighted(seeds_page, browser):
    from playwright.sync_api import expect

    page = _open(browser, seeds_page.url)
    answer = _ask(page, "Who is the spokesperson of Pakistan's Foreign Ministry?")
    marker = answer.locator("a.nd-marker").first
    source, start, end = _place(marker)
    quote = answer.locator(".nd-sources .nd-quote").first.inner_text().strip("“”")
    marker.click()

    mark = page.locator("#nd-reader #nd-mark")
    expect(mark).to_have_text(article_text(source, seeds_page.settings)[start:end], timeout=10_000)
    assert mark.inner_text() == quote
    expect(page.locator("#nd-reader")).to_contain_text(source)
    expect(mark).to_be_in_viewport()  # scrolled into view, inside the article's own scroll box
    box = page.locator("#nd-reader .nd-article").bounding_box()
    spot = mark.bounding_box()
    assert box["y"] <= spot["y"] and spot["y"] + spot["height"] <= box["y"] + box["height"]

    # By keyboard: a retrieved passage's link, focused and opened with Enter.
    link = page.locator("#nd-passages a.nd-cite").nth(1)
    source, start, end = _place(link)
    link.focus()
    page.keyboard.press("Enter")
    expect(mark).to_have_text(article_text(source, seeds_page.settings)[start:end], timeout=10_000)
    expect(mark).to_be_in_viewport()


def test_copying_an_answer_copies_its_sources_as_plain_text(seeds_page, browser):
    page = _open(browser, seeds_page.url, permissions=["clipboard-read", "clipboard-write"])
    _ask(page, "Who is the spokesperson of Pakistan's Foreign Ministry?")
    page.locator('#nd-chat button[aria-label="Copy message"]').last.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "Tahir Andrabi" in copied and "[1]" in copied
    assert "Sources\n[1] outlet unknown, 2025-12-19 — Pakistan open to Gaza stabilization force (Rubio)" in copied
    assert "<" not in copied and "nd-copy" not in copied


def test_disagreeing_articles_are_shown_side_by_side(seeds_page, browser):
    page = _open(browser, seeds_page.url)
    answer = _ask(page, "How many countries attended the conference in Qatar?")
    versions = answer.locator(".nd-disagreement .nd-version")
    assert versions.count() == 2
    # Newest article first: the dated one (19 December 2025) before the undated one.
    assert "45" in versions.nth(0).inner_text() and "dozens" in versions.nth(1).inner_text()
    assert "2025-12-19" in versions.nth(0).inner_text()
    left, right = versions.nth(0).bounding_box(), versions.nth(1).bounding_box()
    assert abs(left["y"] - right["y"]) < 2 and left["x"] + left["width"] <= right["x"]
    assert versions.nth(0).locator("a.nd-marker").count() == 1


def test_the_page_fits_a_narrow_window(seeds_page, browser):
    page = _open(browser, seeds_page.url, width=400, height=800)
    answer = _ask(page, "How many countries attended the conference in Qatar?")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    chat = page.locator("#nd-chat")
    overflowing = chat.evaluate("""chat => {
        const right = chat.getBoundingClientRect().right + 1;
        return [...chat.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > right)
                                              .map(e => e.outerHTML.slice(0, 80));
    }""")
    assert overflowing == []
    first, second = (answer.locator(".nd-version").nth(i).bounding_box() for i in (0, 1))
    assert second["y"] >= first["y"] + first["height"]  # the two versions stack
    assert page.locator("#nd-reader").bounding_box()["y"] > chat.bounding_box()["y"] + 100


def test_the_page_loads_nothing_from_outside(seeds_page, browser):
    from playwright.sync_api import expect

    requests: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.goto(seeds_page.url)
    expect(page.locator("#nd-index-status")).to_contain_text("articles", timeout=30_000)
    answer = _ask(page, "Where did Rubio speak to reporters?")
    answer.locator("a.nd-marker").first.click()
    expect(page.locator("#nd-mark")).to_be_visible(timeout=10_000)
    _articles_tab(page)
    expect(page.locator("#nd-articles")).to_contain_text("Pakistan open to Gaza")

    assert len(requests) > 5
    hosts = {urlsplit(url).hostname for url in requests if not url.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, requests
    referenced = page.evaluate("""[...document.querySelectorAll('script[src], link[href], img[src], iframe[src]')]
                                  .map(e => e.src || e.href)""")
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in referenced if "://" in url), referenced


def test_an_uploaded_article_is_answerable_until_it_is_deleted(tmp_path, articles_dir, browser):
    from playwright.sync_api import expect

    folder_before = sorted(p.name for p in articles_dir.iterdir())
    (tmp_path / "lantern.txt").write_text(LANTERN, encoding="utf-8")
    (tmp_path / "harbour.md").write_text(
        "# Port Elin harbour\n\nThe harbour of Port Elin reopened on Monday after 9 days.\n",
        encoding="utf-8")
    for url in _serve(tmp_path, articles_dir):
        page = _open(browser, url)
        _articles_tab(page)
        page.locator("#nd-upload input[type=file]").set_input_files(
            [tmp_path / "lantern.txt", tmp_path / "harbour.md"])
        expect(page.locator("#nd-upload-result")).to_contain_text("Added 2 articles", timeout=60_000)
        expect(page.locator("#nd-articles")).to_contain_text("Lake Varna lantern festival")
        expect(page.locator("#nd-articles")).to_contain_text("Port Elin harbour")
        expect(page.locator("#nd-index-status")).to_contain_text("4 articles")
        assert sorted(p.name for p in articles_dir.iterdir()) == folder_before

        _chat_tab(page)
        answer = _ask(page, LANTERN_QUESTION)
        expect(answer).to_contain_text("7,412")
        assert _place(answer.locator("a.nd-marker").first)[0] == ".uploads/lantern.txt"

        _articles_tab(page)
        page.locator("#nd-delete-choice input").click()
        page.get_by_role("option", name="Lake Varna lantern festival (.uploads/lantern.txt)").click()
        page.locator("#nd-delete").click()
        expect(page.locator("#nd-upload-result")).to_contain_text("Deleted", timeout=30_000)
        expect(page.locator("#nd-articles")).not_to_contain_text("Lake Varna")
        expect(page.locator("#nd-articles")).to_contain_text("Port Elin harbour")

        _chat_tab(page)
        answer = _ask(page, LANTERN_QUESTION)
        expect(answer).not_to_contain_text("7,412")
        places = [_place(link)[0] for link in answer.locator("a.nd-marker").all()]
        assert ".uploads/lantern.txt" not in places


def test_an_article_dropped_into_the_folder_is_answerable_without_a_restart(tmp_path, articles_dir,
                                                                           browser):
    from playwright.sync_api import expect

    for url in _serve(tmp_path, articles_dir):
        page = _open(browser, url)
        expect(page.locator("#nd-index-status")).to_contain_text("2 articles")
        (articles_dir / "lantern.txt").write_text(LANTERN, encoding="utf-8")
        expect(page.locator("#nd-index-status")).to_contain_text("3 articles", timeout=15_000)
        _articles_tab(page)
        expect(page.locator("#nd-articles")).to_contain_text("Lake Varna lantern festival")

        _chat_tab(page)
        answer = _ask(page, LANTERN_QUESTION)
        expect(answer).to_contain_text("7,412")
        assert _place(answer.locator("a.nd-marker").first)[0] == "lantern.txt"


def test_the_filters_limit_answers_and_the_timeline_lists_dated_events(tmp_path, browser):
    from playwright.sync_api import expect

    from tests.test_news_fields import NEWS

    articles = tmp_path / "news"
    shutil.copytree(NEWS, articles)
    for url in _serve(tmp_path, articles):
        page = _open(browser, url)
        # The outlets offered are the indexed articles' outlets.
        page.locator("#nd-outlets input").click()
        expect(page.get_by_role("option")).to_have_text(  # (Gradio puts a hidden ✓ before each)
            [re.compile(rf"{name}$") for name in ("Arab News", "Dawn", "Reuters", "The Express Tribune")],
            timeout=15_000)
        page.get_by_role("option", name="Dawn").click()
        page.keyboard.press("Escape")
        answer = _ask(page, "How many people are in relief camps?")
        sources = answer.locator(".nd-sources li")
        expect(sources.first).to_contain_text("[1] Dawn, 2025-12-01 — Floods kill 12 in Sindh")
        expect(answer).not_to_contain_text("Arab News")
        expect(answer).to_contain_text("(only articles from Dawn)")

        page.locator("#nd-outlets .token .token-remove").first.click()  # Dawn's chip
        expect(page.locator("#nd-outlets .token")).to_have_count(0)
        page.locator("#nd-since input").fill("2025-12-03")
        answer = _ask(page, "How many people are in relief camps?")
        expect(answer.locator(".nd-sources li").first).to_contain_text("[1] Arab News, 2025-12-05")
        expect(answer).not_to_contain_text("Dawn")
        page.locator("#nd-since input").fill("2026-01-01")
        answer = _ask(page, "How many people are in relief camps?")
        expect(answer).to_contain_text("No indexed article matches the filter (published since 2026-01-01)")

        page.locator("#nd-since input").fill("")
        page.get_by_role("tab", name="Timeline").click()
        page.locator("#nd-timeline-topic input, #nd-timeline-topic textarea").first.fill("Sindh floods")
        page.locator("#nd-timeline-go").click()
        story = page.locator("#nd-timeline")
        expect(story).to_contain_text("events, oldest first", timeout=60_000)
        days = story.locator(".nd-when").all_inner_texts()
        assert len(days) >= 8 and "2025-11-30" in days
        first_days = [d for d in days if d[:4].isdigit()]
        assert first_days == sorted(first_days, key=lambda d: d.replace("week of ", ""))
        sunday = story.locator("li", has_text="killed 12 people")
        expect(sunday.first).to_contain_text("Dawn, 2025-12-01")
        link = sunday.first.locator("a.nd-marker")
        source, start, end = _place(link)
        link.click()  # the reader is on the Chat tab: the citation opens it there
        mark = page.locator("#nd-reader #nd-mark")
        expect(mark).to_have_text(article_text(source, load_settings(articles_dir=articles))[start:end],
                                  timeout=10_000)
        expect(mark).to_be_in_viewport()


def test_the_page_asks_for_a_login_when_one_is_set(tmp_path, articles_dir):
    for url in _serve(tmp_path, articles_dir, auth="reader:s3cret"):
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.get("config").status_code == 401
            assert client.post("login", data={"username": "reader", "password": "wrong"}).status_code != 200
            assert client.post("login", data={"username": "reader", "password": "s3cret"}).status_code == 200
            assert client.get("config").status_code == 200
        assert "s3cret" not in (tmp_path / "page.log").read_text()


def test_serving_beyond_loopback_without_a_login_is_refused(tmp_path, articles_dir):
    env = dict(os.environ, NEWSDESK_ARTICLES_DIR=str(articles_dir), NEWSDESK_LLM="none",
               NEWSDESK_DATA_DIR=str(tmp_path / "data"), NEWSDESK_HOST="0.0.0.0")
    run = subprocess.run([sys.executable, "-m", "ui.cli", "chat"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "NEWSDESK_AUTH" in run.stderr
