"""The chat page: a Gradio front end over `qa.ask_stream` and `qa.timeline`, where every [n]
opens its article, every citation names its outlet and date, and answers can be limited to a
period and to outlets.

It only presents: retrieval, prompting and citation checking happen in `qa/`; reading, saving
and indexing articles in `index/`. Nothing on the page comes from outside this server.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import os
import threading
import time
from pathlib import Path

# Set before gradio is imported: no analytics calls or hub look-ups from an offline machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import gradio as gr  # noqa: E402

from index.articles import ARTICLE_SUFFIXES, ArticleError  # noqa: E402
from index.settings import Settings, SettingsError  # noqa: E402
from index.store import ArticleRecord, StoredPassage  # noqa: E402
from index.uploads import delete_upload, is_upload, save_upload  # noqa: E402
from qa.answer import (Answer, Citation, Corroboration, Disagreement, Final, Passages,  # noqa: E402
                       Text)
from qa.pipeline import AnswerEngine, engine_for  # noqa: E402
from qa.timeline import Timeline, timeline  # noqa: E402
from ui.html_text import (_MARKER, _link, _notice, _origin, _text, _user_text,  # noqa: E402,F401
                          citation_origin, marker_link, passage_link, quote_digest)
from ui.reader_view import READER_WINDOW_CHARS, render_reader  # noqa: E402,F401
from ui.web_panel import FeedRefresher, web_section, wire_web_section  # noqa: E402

EXAMPLES = [
    "Where did Rubio speak to reporters?",
    "How many countries attended the conference in Qatar?",
    "Who is the spokesperson of Pakistan's Foreign Ministry?",
    "What is the capital of France?",
]
# How often the page looks for articles added to, changed in or removed from the folders.
INDEX_CHECK_SECONDS = 3.0
READER_HINT = ('<p class="nd-hint">Select a citation such as <b>[1]</b> to read its article here, '
               "with the quoted passage highlighted.</p>")
PASSAGES_HINT = '<p class="nd-hint">Passages found for a question appear here.</p>'
TIMELINE_HINT = ('<p class="nd-hint">Name a topic, such as a story\'s place or people, to list the '
                 "dated events the articles report about it, from the earliest.</p>")
# A question longer than this is shown cut short (it is refused beyond NEWSDESK_MAX_QUESTION_CHARS).
SHOWN_QUESTION_CHARS = 2000
# Styles and scripts live beside this module; all are served by this server, nothing from outside.
_HERE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)


def _asset(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


# ----- answers ---------------------------------------------------------------------------------
def _with_links(text: str, citations: list[Citation]) -> str:
    by_number = {c.number: c for c in citations}
    parts, last = [], 0
    for match in _MARKER.finditer(text):
        if int(match.group(1)) in by_number:
            parts += [_text(text[last : match.start()]), marker_link(by_number[int(match.group(1))])]
            last = match.end()
    parts.append(_text(text[last:]))
    return "".join(parts)


def plain_answer(answer: Answer) -> str:
    """The answer and its sources as plain text: what the copy button puts on the clipboard."""
    lines = [answer.text]
    lines += [f"{c.reported_by}." for c in answer.corroborations]
    if answer.citations:
        lines += ["", "Sources"]
        for c in answer.citations:
            lines.append(f"[{c.number}] {citation_origin(c)} — {c.title}, {c.source}")
            lines.append(f"    “{c.quote.strip('“”')}”")
    if answer.notice:
        lines += ["", answer.notice]
    return "\n".join(lines)


def _versions(disagreement: Disagreement, by_number: dict[int, Citation]) -> str:
    """Each article's version of a disputed fact, side by side (stacked on a narrow window)."""
    columns = []
    for version in disagreement.versions:
        cited = [by_number[n] for n in version.citations if n in by_number]
        where = version.source
        if cited:
            origin = _origin(cited[0].outlet, cited[0].published)
            where = cited[0].title + (f" ({origin})" if origin else "")
        columns.append(
            f'<div class="nd-version"><p>“{_text(version.text)}” '
            f'{" ".join(marker_link(c) for c in cited)}</p><p class="nd-meta">{_text(where)}</p></div>'
        )
    label = html.escape(f"The articles differ on {disagreement.fact}")
    return (f'<div class="nd-disagreement" role="group" aria-label="{label}">'
            f"<p>The articles differ on <strong>{_text(disagreement.fact)}</strong>:</p>"
            f'<div class="nd-versions">{"".join(columns)}</div></div>')


def _corroboration(corroboration: Corroboration, by_number: dict[int, Citation]) -> str:
    """ "Reported by both Arab News and Dawn [1][3]", each marker opening its article."""
    text = corroboration.reported_by
    markers = "".join(f"[{n}]" for n in corroboration.citations)
    return (f'<p class="nd-corroboration">{_text(text[: len(text) - len(markers)])}'
            f'{"".join(marker_link(by_number[n]) for n in corroboration.citations if n in by_number)}</p>')


def render_answer(answer: Answer) -> str:
    """The bot message for a finished answer: text with linked markers, disagreements, sources.

    One HTML block without blank lines, so that no markdown is read into article text.
    """
    by_number = {c.number: c for c in answer.citations}
    parts = ['<div class="nd-answer">',
             f'<p class="nd-text">{_with_links(answer.text, answer.citations)}</p>']
    parts += [_corroboration(c, by_number) for c in answer.corroborations]
    parts += [_versions(d, by_number) for d in answer.disagreements]
    if answer.citations:
        parts.append('<div class="nd-sources"><p><strong>Sources</strong></p><ol>')
        for c in answer.citations:
            parts.append(f'<li>{marker_link(c)} <span class="nd-origin">{_text(citation_origin(c))}</span>'
                         f" — <em>{_text(c.title)}</em><br>"
                         f'<span class="nd-quote">“{_text(c.quote.strip("“”"))}”</span></li>')
        parts.append("</ol></div>")
    if answer.notice:
        parts.append(f'<p class="nd-notice">{_text(answer.notice)}</p>')
    how = "from the articles' own sentences" if answer.mode == "extracted" else f"by {answer.model}"
    waited = (f" ({answer.queue_seconds:.1f} s waiting for the model while it answered other "
              "readers)" if answer.queue_seconds >= 0.1 else "")
    scope = f" (only articles {answer.article_filter})" if answer.article_filter else ""
    sure = (f"; chance right {answer.confidence:.0%}" if answer.confidence is not None
            and not answer.abstained else "")
    parts.append(f'<p class="nd-meta">Answered {_text(how)} in {answer.seconds:.1f} s{waited}'
                 f"{_text(scope)}{_text(sure)}</p>")
    copy = base64.b64encode(plain_answer(answer).encode("utf-8")).decode("ascii")
    parts.append(f"</div><!--nd-copy:{copy}-->")
    return "".join(parts)


def render_text(text: str, writing: bool = False) -> str:
    """A bot message that is not a finished answer: the reply so far, or an apology."""
    return f'<div class="nd-answer"><p class="nd-text">{_text(text)}{" ▌" if writing else ""}</p></div>'


def render_passages(passages: list[StoredPassage], abstained: bool = False) -> str:
    """What retrieval found, each opening its article; shown before the answer is written."""
    if not passages:
        return '<p class="nd-hint">No passages retrieved.</p>'
    items = "".join(f"<li>{passage_link(p)}<br>{_text(p.text)}</li>" for p in passages)
    heading = ("Nearest passages found (none of them answers the question)" if abstained
               else "Passages found")
    return f"<p><strong>{heading}</strong></p><ol>{items}</ol>"


# ----- the timeline ----------------------------------------------------------------------------
_DATED_BY = {"explicit": "dated by “{when}”", "relative": "“{when}”, counted from the article's date",
             "published": "dated by the article's date"}


def render_timeline(result: Timeline) -> str:
    """The timeline's events, oldest first: date, the reporting sentence, its citations."""
    heading = f"Timeline of “{_text(result.topic)}”"
    if result.article_filter:
        heading += f" ({_text(result.article_filter)})"
    parts = ['<div class="nd-answer">']
    if result.events:
        count = len(result.events)
        parts.append(f"<p><strong>{heading}</strong>: {count} event{'s' if count != 1 else ''}, "
                     "oldest first</p><ol class=\"nd-events\">")
        for event in result.events:
            expected = ' <span class="nd-expected">expected</span>' if event.expected else ""
            basis = _DATED_BY[event.dated_by].format(when=event.when)
            cited = "<br>".join(
                f'{marker_link(c)} <span class="nd-origin">{_text(citation_origin(c))}</span> — '
                f"<em>{_text(c.title)}</em>" for c in event.citations)
            parts.append(f'<li><span class="nd-when">{_text(event.label)}</span>{expected}<br>'
                         f'<span class="nd-event">“{_text(event.text)}”</span><br>{cited} '
                         f'<span class="nd-meta">({_text(basis)})</span></li>')
        parts.append("</ol>")
    if result.notice:
        parts.append(f'<p class="nd-notice">{_text(result.notice)}</p>')
    parts.append(f'<p class="nd-meta">Found in {result.seconds:.1f} s</p></div>')
    return "".join(parts)


# ----- the articles view -----------------------------------------------------------------------
def render_articles(records: list[ArticleRecord], stories: list[list[str]] | None = None) -> str:
    """The indexed articles; those telling the same story (`stories`) come together, numbered."""
    if not records:
        kinds = ", ".join(ARTICLE_SUFFIXES)
        return f'<p class="nd-hint">No articles are indexed yet: add {kinds} files.</p>'
    story_of = {source: n for n, group in enumerate(stories or [], start=1) for source in group}
    rows = []
    for r in sorted(records, key=lambda r: (story_of.get(r.source, len(story_of) + 1),
                                            is_upload(r.source), r.title.lower())):
        number = story_of.get(r.source)
        story = (f'<td class="nd-story">Story {number} ({len(stories[number - 1])} articles)</td>'  # type: ignore[index]
                 if number else "<td></td>")
        read_from = {name: html.escape(f"read from the {origin}", quote=True)
                     for name, origin in r.fields_from.items()}
        rows.append(
            f"<tr>{story}<td>{_text(r.title)}<br><span class=\"nd-source\">{_text(r.source)}</span></td>"
            f"<td title=\"{read_from.get('outlet', '')}\">{_text(r.outlet or '')}</td>"
            f"<td title=\"{read_from.get('published', '')}\">{_text(r.published or '')}</td>"
            f'<td class="nd-num">{_size(r.size)}</td><td class="nd-num">{r.passages}</td>'
            f"<td>{'uploaded' if is_upload(r.source) else 'folder'}</td></tr>"
        )
    head = ('<tr><th>Story</th><th>Title</th><th>Outlet</th><th>Date</th><th class="nd-num">Size</th>'
            '<th class="nd-num">Passages</th><th>From</th></tr>')
    return (f'<div class="nd-table-box"><table class="nd-table"><thead>{head}</thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{max(1, round(size / 1e3))} kB"


class IndexWatch:
    """Notices articles added, changed or removed while the page runs, one check at a time."""

    def __init__(self, engine: AnswerEngine, interval: float = INDEX_CHECK_SECONDS):
        self.engine = engine
        self.interval = interval
        self.error: str | None = None
        self._lock = threading.Lock()
        self._checked = 0.0

    def check(self, wait: bool = False) -> None:
        """Bring the index up to date; returns at once when another check runs or one just ran."""
        if not wait and time.monotonic() - self._checked < self.interval:
            return
        if not self._lock.acquire(blocking=wait):
            return
        try:
            self.engine.ensure_index()  # compares file stats: cheap when nothing changed
            self.error = None
        except Exception as error:  # shown in the status line; the page keeps answering
            self.error = str(error)
        finally:
            self._checked = time.monotonic()
            self._lock.release()

    def records(self) -> list[ArticleRecord]:
        return list(self.engine.store.manifest.articles.values())

    def stories(self) -> list[list[str]]:
        """Groups of articles that report the same story (two or more each)."""
        return self.engine.store.stories.groups()

    def version(self) -> str:
        """Changes whenever what the Articles view shows changes."""
        report = self.engine.last_index_report
        state = (sorted((r.source, r.content_hash, r.metadata_hash, r.title, r.outlet or "",
                         r.published or "") for r in self.records()), self.stories(),
                 sorted((report.refused if report else {}).items()), self.error)
        return hashlib.sha1(repr(state).encode()).hexdigest()

    def status(self) -> str:
        records = self.records()
        uploaded = sum(is_upload(r.source) for r in records)
        line = (f"**Index:** {len(records)} article{'s' if len(records) != 1 else ''}, "
                f"{sum(r.passages for r in records)} passages")
        if uploaded:
            line += f" ({uploaded} uploaded)"
        report = self.engine.last_index_report
        if report and report.refused:
            line += f"; {len(report.refused)} refused: " + "; ".join(
                html.escape(reason) for reason in sorted(report.refused.values()))
        if report and report.warnings:
            line += "; metadata not used: " + "; ".join(
                html.escape(problem) for problems in report.warnings.values() for problem in problems)
        if report and report.duplicates:
            line += "; same content under two names (answers quote it once): " + "; ".join(
                html.escape(f"{copy} = {original}") for copy, original in sorted(report.duplicates.items()))
        if self.error:
            line += f"; indexing failed: {html.escape(self.error)}"
        return line


# ----- the page --------------------------------------------------------------------------------
def chat_turn(engine: AnswerEngine, message: str | None, chat: list | None, turns: list | None,
              since: str | None = None, until: str | None = None, outlets: list[str] | None = None):
    """One question on the page: yields (chat, turns, question box, passages panel) as it goes.

    `since`, `until` and `outlets` are the page's filter controls (empty: no filter).

    Whatever goes wrong, the reader sees a sentence in the chat, never a stack trace, and the
    conversation so far is kept.
    """
    question = str(message or "").strip()
    shown = question if len(question) <= SHOWN_QUESTION_CHARS else question[:SHOWN_QUESTION_CHARS] + " …"
    chat = list(chat or []) + [{"role": "user", "content": _user_text(shown) or "…"},
                               {"role": "assistant", "content": "_Searching the articles…_"}]
    yield chat, turns, "", gr.skip()
    reply = ""
    try:
        # Only the filters set are passed on: an engine of before filters still answers.
        limits = {name: value for name, value in (("since", since), ("until", until),
                                                  ("outlets", outlets)) if value}
        for event in engine.ask_stream(question, turns or None, **limits):
            match event:
                case Passages(passages):  # shown before the model has finished
                    # A second reading comes with its own passages and reply.
                    reply = ""
                    chat[-1] = {"role": "assistant", "content": "_Found passages; writing the answer…_"}
                    yield chat, turns, "", render_passages(passages)
                case Text(text):
                    reply += text
                    chat[-1] = {"role": "assistant", "content": render_text(reply, writing=True)}
                    yield chat, turns, "", gr.skip()
                case Final(answer):
                    chat[-1] = {"role": "assistant", "content": render_answer(answer)}
                    turns = list(turns or []) + [(question, answer.text)]
                    yield chat, turns, "", render_passages(answer.passages, answer.abstained)
    except Exception as error:  # the reader sees a sentence, never a stack trace
        log.exception("a question could not be answered")
        chat[-1] = {"role": "assistant",
                    "content": render_text(f"Sorry, this question could not be answered: {error}")}
        yield chat, turns, "", gr.skip()


def model_status(engine: AnswerEngine) -> str:
    if engine.model is None:
        return "**Model:** none (evidence mode: answers are the articles' own sentences)"
    info = engine.model.info
    state, reason = engine.model.state()
    label = {"local": "local", "openai": "OpenAI", "endpoint": f"endpoint {info.base_url}"}[info.backend]
    text = {"remote": "configured", "ready": "ready", "starting": "starting…",
            "stopped": "starts at the first question", "failed": f"unavailable: {reason}"}[state]
    return f"**Model:** {label} `{info.name}`: {html.escape(text)}"


def _show_timeline(settings: Settings, topic: str, since: str, until: str, outlets: list[str]) -> str:
    try:
        return render_timeline(timeline(topic, settings, since=since or None,
                                        until=until or None, outlets=outlets or None))
    except Exception as error:  # the reader sees a sentence, never a stack trace
        log.exception("a timeline could not be made")
        return _notice(f"Sorry, this timeline could not be made: {error}")


def _open_citation(settings: Settings, engine: AnswerEngine, event: gr.EventData):
    data = getattr(event, "_data", None) or {}
    try:
        source, digest = str(data["source"]), str(data["digest"])
        start, end = int(data["start"]), int(data["end"])
    except (KeyError, TypeError, ValueError):
        return READER_HINT, gr.skip()
    # Only indexed articles are opened: an id from the browser names nothing else.
    record = engine.store.manifest.articles.get(source)
    # The reader is on the Chat tab: a citation of the timeline opens it there.
    return (render_reader(settings, record, source, start, end, digest, engine.store),
            gr.Tabs(selected="chat"))


def _filters() -> tuple:
    with gr.Row(elem_id="nd-filters", equal_height=True):
        # Empty values: API clients that send only a question get no filter.
        since = gr.Textbox("", label="Published since", placeholder="YYYY-MM-DD", max_lines=1,
                           elem_id="nd-since", scale=1, min_width=140)
        until = gr.Textbox("", label="Published until", placeholder="YYYY-MM-DD", max_lines=1,
                           elem_id="nd-until", scale=1, min_width=140)
        outlets = gr.Dropdown(label="Outlets (none chosen: all)", choices=[], multiselect=True,
                              elem_id="nd-outlets", scale=2, min_width=200)
    return since, until, outlets


def _chat_tab() -> tuple:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            chatbot = gr.Chatbot(label="Chat", height=520, elem_id="nd-chat",
                                 buttons=["copy"], feedback_options=None,
                                 latex_delimiters=[])
            question = gr.Textbox(placeholder="Ask a question about the articles",
                                  show_label=False, lines=1, max_lines=4,
                                  elem_id="nd-question", autofocus=True,
                                  submit_btn=True)
            with gr.Row():
                new_chat = gr.Button("New chat", size="sm", elem_id="nd-new-chat")
            gr.Examples(EXAMPLES, inputs=question, label="Examples")
        with gr.Column(scale=2, min_width=300):
            reader = gr.HTML(READER_HINT, elem_id="nd-reader", container=True,
                             padding=True, js_on_load=_asset("reader.js"))
            passages = gr.HTML(PASSAGES_HINT, elem_id="nd-passages", js_on_load=None,
                               container=True, padding=True)
    return chatbot, question, new_chat, reader, passages


def _timeline_tab() -> tuple:
    with gr.Row():
        topic = gr.Textbox(placeholder="A topic, e.g. a story's place or people",
                           show_label=False, lines=1, max_lines=1, scale=4,
                           elem_id="nd-timeline-topic")
        show = gr.Button("Show timeline", elem_id="nd-timeline-go", scale=1,
                         variant="primary")
    story = gr.HTML(TIMELINE_HINT, elem_id="nd-timeline", js_on_load=None,
                    container=True, padding=True)
    return topic, show, story


def _index_now(watch: IndexWatch):
    """Index what was just fetched, in the page's engine; its report (None if nothing changed)."""
    return watch.engine.ensure_index()


def _upload_actions(settings: Settings, engine: AnswerEngine, watch: IndexWatch, articles_view):
    """The Articles tab's upload and delete actions."""
    def add_articles(paths: list[str] | None, progress=gr.Progress()):
        paths = list(paths or [])
        saved, problems = [], []
        for path in progress.tqdm(paths, desc="Saving"):
            name = Path(path).name  # Gradio keeps the browser's file name as the last part
            try:
                saved.append(save_upload(settings, name, Path(path).read_bytes()))
            except (ArticleError, OSError) as error:
                problems.append(str(error))
            finally:
                Path(path).unlink(missing_ok=True)  # Gradio's copy is not needed any more
        if saved:
            progress(0.9, desc="Indexing")
            watch.check(wait=True)
            report = engine.last_index_report
            refused = [s for s in saved if report and s in report.refused]
            for source in refused:  # an upload that cannot be indexed is not kept
                problems.append(report.refused[source])  # type: ignore[union-attr]
                delete_upload(settings, source)
            if refused:
                watch.check(wait=True)
        indexed = [s for s in saved if s in engine.store.manifest.articles]
        lines = ([f"Added {len(indexed)} article{'s' if len(indexed) != 1 else ''}: "
                  + ", ".join(f"`{s}`" for s in indexed)] if indexed else [])
        lines += [f"Not added: {html.escape(p)}" for p in problems]
        return ("  \n".join(lines) or "Nothing was uploaded.", None, *articles_view(None))

    def remove_article(source: str | None):
        if not source:
            return "Choose an uploaded article to delete.", *articles_view(None)
        try:
            delete_upload(settings, source)
        except ArticleError as error:
            return f"Not deleted: {html.escape(str(error))}", *articles_view(None)
        watch.check(wait=True)
        return f"Deleted `{source}`.", *articles_view(None)

    return add_articles, remove_article


def build_page(settings: Settings) -> gr.Blocks:
    engine = engine_for(settings)
    watch = IndexWatch(engine)
    # Followed feeds are refreshed in a thread of their own while the page runs.
    FeedRefresher(settings, lambda: _index_now(watch)).start()

    def respond(message: str, chat: list, turns: list, since: str, until: str, outlets: list[str]):
        yield from chat_turn(engine, message, chat, turns, since, until, outlets)

    def show_timeline(topic: str, since: str, until: str, outlets: list[str]) -> str:
        return _show_timeline(settings, topic, since, until, outlets)

    def open_citation(event: gr.EventData):
        return _open_citation(settings, engine, event)

    def articles_view(version: str | None, wait: bool = False):
        watch.check(wait=wait)
        current = watch.version()
        if current == version:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), version
        uploads = sorted((r.title + " (" + r.source + ")", r.source)
                         for r in watch.records() if is_upload(r.source))
        outlets = sorted({r.outlet for r in watch.records() if r.outlet}, key=str.casefold)
        return (watch.status(), render_articles(watch.records(), watch.stories()),
                gr.update(choices=uploads, value=None), gr.update(choices=outlets), current)

    add_articles, remove_article = _upload_actions(settings, engine, watch, articles_view)

    with gr.Blocks(title="newsdesk", analytics_enabled=False) as page:
        gr.Markdown("## newsdesk\nAsk about the articles. Every claim cites the sentence it comes "
                    "from: select **[n]** to read it in its article.")
        status = gr.Markdown(model_status(engine), elem_id="nd-status")
        index_status = gr.Markdown("**Index:** checking…", elem_id="nd-index-status")
        version = gr.State(None)  # what this browser's Articles view shows
        turns = gr.State([])  # (question, answer) pairs: the conversation follow-ups lean on
        since, until, outlets = _filters()
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat", elem_id="nd-tab-chat"):
                chatbot, question, new_chat, reader, passages = _chat_tab()
            with gr.Tab("Timeline", id="timeline", elem_id="nd-tab-timeline"):
                topic, show, story = _timeline_tab()
            with gr.Tab("Articles", id="articles", elem_id="nd-tab-articles"):
                gr.Markdown("### Indexed articles")
                articles = gr.HTML("", elem_id="nd-articles", js_on_load=None)
                gr.Markdown("### Add or delete articles")
                uploads = gr.File(label=f"Add articles ({', '.join(ARTICLE_SUFFIXES)}; several at "
                                  "once)", file_count="multiple", file_types=list(ARTICLE_SUFFIXES),
                                  elem_id="nd-upload", height=150)
                upload_result = gr.Markdown("", elem_id="nd-upload-result")
                with gr.Row():
                    to_delete = gr.Dropdown(label="Uploaded article", choices=[],
                                            elem_id="nd-delete-choice", scale=3)
                    delete = gr.Button("Delete", variant="stop", elem_id="nd-delete", scale=1)
                gr.Markdown(f"Articles in `{html.escape(str(settings.articles_dir))}` are "
                            "indexed when they are added, changed or removed there; they can "
                            "only be deleted there.", elem_classes="nd-hint")

                web = web_section(settings)

        view_outputs = [index_status, articles, to_delete, outlets, version]
        question.submit(respond, [question, chatbot, turns, since, until, outlets],
                        [chatbot, turns, question, passages])
        for start_timeline in (show.click, topic.submit):
            start_timeline(show_timeline, [topic, since, until, outlets], story,
                           show_progress_on=story)
        new_chat.click(lambda: ([], [], "", PASSAGES_HINT, READER_HINT), None,
                       [chatbot, turns, question, passages, reader])
        reader.click(open_citation, None, [reader, tabs], show_progress="hidden")
        uploads.upload(add_articles, uploads, [upload_result, uploads, *view_outputs],
                       show_progress_on=upload_result, concurrency_id="nd-index")
        delete.click(remove_article, to_delete, [upload_result, *view_outputs],
                     concurrency_id="nd-index")
        page.load(lambda v: articles_view(v, wait=True), version, view_outputs)
        timer = gr.Timer(INDEX_CHECK_SECONDS)
        timer.tick(lambda: model_status(engine), None, status, show_progress="hidden")
        # Its own queue: a slow indexing run never holds up an answer's events.
        timer.tick(articles_view, version, view_outputs, show_progress="hidden",
                   concurrency_limit=1, concurrency_id="nd-index-watch")
        wire_web_section(settings, web, lambda: _index_now(watch), view_outputs, articles_view)
    return page


def launch_options(settings: Settings) -> dict:
    """What `launch()` needs besides the page: styles, the copy script, limits, logins."""
    logins = settings.logins
    return dict(server_name=settings.host, server_port=settings.port, inbrowser=False,
                show_error=False, css=_asset("page.css"), head=f"<script>{_asset('copy.js')}</script>",
                footer_links=[], max_file_size=settings.max_article_bytes, auth=logins or None,
                auth_message="newsdesk: sign in to ask about the articles.")


def serve(settings: Settings) -> None:
    """Index what changed, start the model in the background, and serve the page."""
    if settings.serves_beyond_loopback and not settings.logins:
        raise SettingsError(
            f"NEWSDESK_HOST={settings.host} serves the page beyond this machine: set NEWSDESK_AUTH "
            "(user:password pairs) so that only your readers can use it."
        )
    engine = engine_for(settings)
    report = engine.ensure_index()
    if report is not None:
        print(f"index: {report.summary()}", flush=True)
        for reason in report.refused.values():
            print(f"index: refused {reason}", flush=True)
    if engine.model is not None:  # the page is usable at once; the model gets ready meanwhile
        threading.Thread(target=_warm_up, args=(engine,), daemon=True).start()
    page = build_page(settings)
    page.queue(default_concurrency_limit=8)
    print(f"newsdesk: chat at http://{settings.host}:{settings.port}", flush=True)
    page.launch(**launch_options(settings))


def _warm_up(engine: AnswerEngine) -> None:
    try:
        engine.warm_up()
    except Exception as error:  # shown in the status line; the page stays usable
        print(f"newsdesk: the model could not start: {error}", flush=True)
