"""qa/: questions and answers. Retrieval over what `index/` built, the answer backends behind one
interface, citations and their checking, `ask()` and the evaluation."""

from qa.answer import (Answer, Citation, Corroboration, Disagreement, Version, ask, ask_stream,
                       engine_for)

__all__ = ["Answer", "Citation", "Corroboration", "Disagreement", "Version", "ask", "ask_stream", "engine_for"]
