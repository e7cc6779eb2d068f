"""The chat page: a Gradio front end over `qa.ask_stream`, with each answer's quoted sources.

It only presents: retrieval, prompting and citation checking all happen in `qa/`.
"""

from __future__ import annotations

import html
import os
import threading

# Set before gradio is imported: no analytics calls or hub look-ups from an offline machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import gradio as gr  # noqa: E402

from index.settings import Settings, SettingsError  # noqa: E402
from index.store import StoredPassage  # noqa: E402
from qa.answer import Answer, AnswerEngine, engine_for  # noqa: E402

EXAMPLES = [
    "Where did Rubio speak to reporters?",
    "How many countries attended the conference in Qatar?",
    "Who is the spokesperson of Pakistan's Foreign Ministry?",
    "What is the capital of France?",
]
CSS = """
.nd-sources { font-size: 0.92em; border-top: 1px solid var(--border-color-primary); margin-top: .6em; padding-top: .4em; }
.nd-quote { color: var(--body-text-color-subdued); }
.nd-meta { font-size: 0.85em; color: var(--body-text-color-subdued); }
.nd-notice { font-size: 0.9em; color: var(--color-accent); }
"""


def _escape(text: str) -> str:
    # Article text is shown as text: no HTML from an article reaches the page, no markdown markup.
    escaped = html.escape(text, quote=False)
    for char in "\\`*_[]#|~":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def render_answer(answer: Answer) -> str:
    """The bot message for a finished answer: text, numbered quotes, notice, timing."""
    parts = [_escape(answer.text).replace("\\[", "[").replace("\\]", "]")]
    if answer.citations:
        lines = ['<div class="nd-sources">', "", "**Sources**", ""]
        for citation in answer.citations:
            origin = ", ".join(x for x in (citation.outlet, citation.published) if x)
            origin = f" ({_escape(origin)})" if origin else ""
            lines.append(
                f"**[{citation.number}]** *{_escape(citation.title)}*{origin}  \n"
                f'<span class="nd-quote">“{_escape(citation.quote.strip("“”"))}”</span>'
            )
            lines.append("")
        lines.append("</div>")
        parts.append("\n".join(lines))
    if answer.notice:
        parts.append(f'<span class="nd-notice">{_escape(answer.notice)}</span>')
    how = "from the articles' own sentences" if answer.mode == "extracted" else f"by {answer.model}"
    parts.append(f'<span class="nd-meta">Answered {how} in {answer.seconds:.1f} s</span>')
    return "\n\n".join(parts)


def render_passages(passages: list[StoredPassage]) -> str:
    if not passages:
        return "_No passages retrieved._"
    lines = ["**Passages found**", ""]
    for number, passage in enumerate(passages, start=1):
        lines.append(f"{number}. *{_escape(passage.title)}*: {_escape(passage.text)}")
    return "\n".join(lines)


def model_status(engine: AnswerEngine) -> str:
    if engine.model is None:
        return "**Model:** none (evidence mode: answers are the articles' own sentences)"
    info = engine.model.info
    state, reason = engine.model.state()
    label = {"local": "local", "openai": "OpenAI", "endpoint": f"endpoint {info.base_url}"}[info.backend]
    text = {"remote": "configured", "ready": "ready", "starting": "starting…",
            "stopped": "starts at the first question", "failed": f"unavailable: {reason}"}[state]
    return f"**Model:** {label} `{info.name}`: {_escape(text)}"


def build_page(settings: Settings) -> gr.Blocks:
    engine = engine_for(settings)

    def respond(message: str, chat: list, turns: list):
        question = (message or "").strip()
        chat = list(chat or []) + [{"role": "user", "content": question or "…"},
                                   {"role": "assistant", "content": "_Searching the articles…_"}]
        yield chat, turns, "", gr.update()
        reply = ""
        try:
            for event in engine.ask_stream(question, turns or None):
                if isinstance(event, Answer):
                    chat[-1] = {"role": "assistant", "content": render_answer(event)}
                    turns = list(turns or []) + [(question, event.text)]
                    yield chat, turns, "", render_passages(event.passages)
                elif isinstance(event, str):
                    reply += event
                    chat[-1] = {"role": "assistant", "content": _escape(reply) + " ▌"}
                    yield chat, turns, "", gr.update()
                else:
                    chat[-1] = {"role": "assistant",
                                "content": "_Found passages; writing the answer…_"}
                    yield chat, turns, "", render_passages(event)
        except Exception as error:  # the reader sees a sentence, never a stack trace
            chat[-1] = {"role": "assistant", "content": _escape(
                f"Sorry, this question could not be answered: {error}")}
            yield chat, turns, "", gr.update()

    with gr.Blocks(title="newsdesk", analytics_enabled=False) as page:
        gr.Markdown("## newsdesk\nAsk about the articles. Every claim cites the sentence it comes from.")
        status = gr.Markdown(model_status(engine), elem_id="nd-status")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=520, elem_id="nd-chat",
                                     buttons=["copy"], feedback_options=None)
                question = gr.Textbox(placeholder="Ask a question about the articles",
                                      show_label=False, lines=1, max_lines=4,
                                      elem_id="nd-question", autofocus=True, submit_btn=True)
                with gr.Row():
                    new_chat = gr.Button("New chat", size="sm", elem_id="nd-new-chat")
                gr.Examples(EXAMPLES, inputs=question, label="Examples")
            with gr.Column(scale=2):
                passages = gr.Markdown("_Passages found for a question appear here._",
                                       elem_id="nd-passages")
        turns = gr.State([])

        question.submit(respond, [question, chatbot, turns], [chatbot, turns, question, passages])
        new_chat.click(lambda: ([], [], "", "_Passages found for a question appear here._"),
                       None, [chatbot, turns, question, passages])
        timer = gr.Timer(3.0)
        timer.tick(lambda: model_status(engine), None, status)
    return page


def serve(settings: Settings) -> None:
    """Index what changed, start the model in the background, and serve the page."""
    logins = settings.logins
    if settings.serves_beyond_loopback and not logins:
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
    page.launch(server_name=settings.host, server_port=settings.port, inbrowser=False,
                show_error=False, css=CSS, footer_links=[], auth=logins or None,
                auth_message="newsdesk: sign in to ask about the articles.")


def _warm_up(engine: AnswerEngine) -> None:
    try:
        engine.warm_up()
    except Exception as error:  # shown in the status line; the page stays usable
        print(f"newsdesk: the model could not start: {error}", flush=True)
