"""qa/: questions and answers. Retrieval over what `index/` built, the answer backends behind one
interface, citations and their checking, `ask()`, a story's `timeline()` and the evaluation."""

from qa.answer import (Answer, Citation, Corroboration, Disagreement, Version, ask, ask_stream,
                       engine_for)
from qa.timeline import Timeline, TimelineEvent, timeline

__all__ = ["Answer", "Citation", "Corroboration", "Disagreement", "Timeline", "TimelineEvent",
           "Version", "ask", "ask_stream", "engine_for", "timeline"]
