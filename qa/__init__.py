"""qa/: questions and answers. Retrieval over what `index/` built, the answer backends behind one
interface, citations and their checking, `ask()`, a story's `timeline()` and the evaluation."""

from qa.answer import Answer, Citation, Corroboration, Disagreement, Final, Passages, Text, Version
from qa.pipeline import ask, ask_stream, engine_for
from qa.timeline import Timeline, TimelineEvent, timeline

__all__ = ["Answer", "Citation", "Corroboration", "Disagreement", "Final", "Passages", "Text",
           "Timeline", "TimelineEvent", "Version", "ask", "ask_stream", "engine_for", "timeline"]
