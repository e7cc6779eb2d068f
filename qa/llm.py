"""The answer backends behind one small interface: a chat model reached over the OpenAI API.

The bundled local model (llama.cpp's server on loopback), OpenAI, and any OpenAI-compatible server
(vLLM, Ollama, llama.cpp elsewhere) all go through `ChatModel`: one code path, explicit timeouts,
at most one retry, and failures turned into `ModelUnavailable` with a sentence for the user.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import httpx

from index.settings import Settings
from qa.local_model import LocalModelError, local_server, model_file

# Connecting to a server that is there takes milliseconds; a long wait means it is not.
CONNECT_TIMEOUT = 5.0
# First tokens whose probabilities are asked for when scoring a reply (OpenAI allows up to 20).
FIRST_TOKEN_CHOICES = 10


class ModelUnavailable(RuntimeError):
    """The model could not answer; `str(error)` is one sentence for the user."""


class ModelBusy(ModelUnavailable):
    """The model served other questions for longer than NEWSDESK_QUEUE_TIMEOUT."""


class TurnQueue:
    """First come, first served turns at one model, each wait bounded by `timeout` seconds.

    Several readers share one local model, which answers one request at a time: a plain lock
    lets a late arrival overtake an earlier one and never says when to give up.
    """

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._condition = threading.Condition()
        self._line: deque[object] = deque()
        self._busy = False
        self._waited = threading.local()

    @contextmanager
    def turn(self, timeout: float | None = None) -> Iterator[None]:
        """Wait for this thread's turn (raise ModelBusy past the timeout), hold it inside."""
        timeout = self.timeout if timeout is None else timeout
        ticket = object()
        started = time.monotonic()
        with self._condition:
            self._line.append(ticket)
            served = self._condition.wait_for(
                lambda: not self._busy and self._line[0] is ticket, timeout)
            if not served:
                self._line.remove(ticket)
                self._condition.notify_all()  # whoever was behind may be first now
                raise ModelBusy(
                    f"The model is busy with other readers' questions (waited {timeout:.0f} s, "
                    "NEWSDESK_QUEUE_TIMEOUT): try again in a moment.")
            self._line.popleft()
            self._busy = True
        self._waited.total = self.waited() + time.monotonic() - started
        try:
            yield
        finally:
            with self._condition:
                self._busy = False
                self._condition.notify_all()

    def waited(self) -> float:
        """Seconds this thread has spent waiting for its turns so far."""
        return getattr(self._waited, "total", 0.0)

    @property
    def waiting(self) -> int:
        """How many calls are waiting for their turn."""
        return len(self._line)


@dataclass(frozen=True)
class ModelInfo:
    backend: str  # "local", "openai" or "endpoint" (an OpenAI-compatible server elsewhere)
    name: str
    base_url: str | None


class ChatModel:
    """Streams chat completions from the configured backend."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.timeout = settings.llm_timeout
        self._client = None
        self._client_lock = threading.Lock()
        # One local model serves one request at a time: callers queue here, first come first
        # served, so answers never mix and nobody waits longer than NEWSDESK_QUEUE_TIMEOUT.
        self.queue = TurnQueue(settings.queue_timeout)
        self._server = None
        self._no_logprobs = False  # the endpoint refused `logprobs` once: not asked again
        if settings.llm == "openai":
            backend = "endpoint" if settings.openai_base_url else "openai"
            self.info = ModelInfo(backend, settings.model_name, settings.openai_base_url)
        else:
            self.info = ModelInfo("local", settings.model_name, None)

    # ----- state for the page ---------------------------------------------------------------
    def state(self) -> tuple[str, str | None]:
        """("starting" | "ready" | "failed" | "stopped" | "remote", reason)."""
        if self.info.backend != "local":
            return "remote", None
        if self._server is None:
            return "stopped", None
        return self._server.state, self._server.failure

    def warm_up(self) -> None:
        """Start the local model now rather than at the first question."""
        self._ensure_client()

    # ----- the one call ----------------------------------------------------------------------
    def stream(self, messages: list[dict[str, str]], max_tokens: int = 200) -> Iterator[str]:
        """Yield the reply's text as it is generated; raise ModelUnavailable on failure."""
        import openai

        client = self._ensure_client()
        with self.queue.turn() if self.info.backend == "local" else nullcontext():
            try:
                stream = client.chat.completions.create(
                    model=self.info.name,
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=max_tokens,
                    temperature=0.0,
                    stream=True,
                )
                deadline = time.monotonic() + self.timeout
                for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
                    if time.monotonic() > deadline:  # per-read timeouts do not bound the whole reply
                        stream.close()
                        raise openai.APITimeoutError(request=None)  # type: ignore[arg-type]
            except openai.AuthenticationError:
                raise ModelUnavailable(
                    "The model endpoint refused the API key (check OPENAI_API_KEY)."
                ) from None
            except openai.NotFoundError:
                raise ModelUnavailable(
                    f"The model endpoint does not know the model {self.info.name!r} "
                    "(check NEWSDESK_MODEL)."
                ) from None
            except openai.APITimeoutError:
                raise ModelUnavailable(
                    f"The model did not answer within {self.timeout:.0f} s "
                    "(NEWSDESK_LLM_TIMEOUT)."
                ) from None
            except openai.APIConnectionError:
                self._mark_local_failure()
                raise ModelUnavailable(
                    f"The model endpoint {self._where()} could not be reached."
                ) from None
            except openai.APIStatusError as error:
                raise ModelUnavailable(
                    f"The model endpoint answered with an error ({error.status_code})."
                ) from None
            except httpx.TimeoutException:
                # A server that went quiet mid-answer (read timeouts are not wrapped while streaming).
                raise ModelUnavailable(
                    f"The model stopped answering for {self.timeout:.0f} s (NEWSDESK_LLM_TIMEOUT)."
                ) from None
            except (openai.APIError, httpx.HTTPError):
                # The server went away mid-answer (httpx errors are not wrapped while streaming).
                self._mark_local_failure()
                raise ModelUnavailable(
                    f"The model endpoint {self._where()} stopped answering."
                ) from None

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 200) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens))

    def first_token_chances(self, messages: list[dict[str, str]],
                            top: int = FIRST_TOKEN_CHOICES) -> dict[str, float] | None:
        """The `top` likeliest first tokens of the reply to `messages`, with their log-probabilities;
        None when the endpoint gives none (it rejects `logprobs`, or ignores it).

        One streamed token: llama.cpp reuses the prompt it has just evaluated, and a streamed
        request does not score every prompt token as a non-streamed one does (0.25 s here, not
        1.5 to 4 s). An endpoint that refuses `logprobs` (HTTP 400) is not asked again.
        """
        import openai

        if self._no_logprobs:
            return None
        client = self._ensure_client()
        chances: dict[str, float] = {}
        with self.queue.turn() if self.info.backend == "local" else nullcontext():
            try:
                stream = client.chat.completions.create(
                    model=self.info.name, messages=messages,  # type: ignore[arg-type]
                    max_tokens=1, temperature=0.0, stream=True, logprobs=True, top_logprobs=top)
                for chunk in stream:
                    logprobs = chunk.choices[0].logprobs if chunk.choices else None
                    for scored in (logprobs.content or []) if logprobs else []:
                        for choice in scored.top_logprobs or []:
                            chances.setdefault(choice.token, choice.logprob)
            except openai.BadRequestError:
                self._no_logprobs = True
                return None
            except (openai.APIError, httpx.HTTPError) as error:
                # The reply itself came: a failed scoring request costs the score, not the answer.
                raise ModelUnavailable(f"The model's probabilities could not be read: {error}") from None
        return chances or None

    def queue_wait(self) -> float:
        """Seconds the calling thread has waited for the model while it served others."""
        return self.queue.waited()

    # ----- plumbing --------------------------------------------------------------------------
    def _ensure_client(self):
        import openai

        with self._client_lock:
            if self.info.backend == "local":
                base_url = self._ensure_local_server()
                if self._client is None or str(self._client.base_url).rstrip("/") != base_url:
                    self._client = openai.OpenAI(
                        base_url=base_url,
                        api_key="local",  # the server checks no key; the client needs one
                        timeout=httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT),
                        max_retries=1,
                        # Loopback: a proxy from the environment must not be in the way.
                        http_client=httpx.Client(trust_env=False),
                    )
            elif self._client is None:
                key = self.settings.openai_api_key
                if key is None and not self.settings.openai_base_url:
                    raise ModelUnavailable(
                        "NEWSDESK_LLM=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for "
                        "another OpenAI-compatible server)."
                    )
                self._client = openai.OpenAI(
                    base_url=self.settings.openai_base_url or None,
                    api_key=key.get_secret_value() if key else "none",
                    timeout=httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT),
                    max_retries=1,
                )
            return self._client

    def _ensure_local_server(self) -> str:
        try:
            if self._server is None:
                path = model_file(self.info.name, self.settings.model_files_dir)
                self._server = local_server(
                    path,
                    threads=self.settings.llm_threads,
                    context=self.settings.llm_context,
                    log_path=self.settings.data_dir / "logs" / "llama-server.log",
                )
            return self._server.ensure_started()
        except LocalModelError as error:
            raise ModelUnavailable(str(error)) from None

    def _mark_local_failure(self) -> None:
        # A dead local server is restarted by the next question.
        if self._server is not None and not self._server.running():
            self._server.state = "failed"
            self._server.failure = "the local model server stopped"

    def _where(self) -> str:
        if self.info.backend == "local":
            return "(local llama.cpp server)"
        return self.settings.openai_base_url or "api.openai.com"

