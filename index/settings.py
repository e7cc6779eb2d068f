"""The one settings object of newsdesk, read once from the environment and `.env`.

Every entry point (CLI, `ask()`, the page, the evaluation) builds it with `load_settings()` and
passes it down; no other module reads `os.environ`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGED_LOCAL_MODELS = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m")
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# Tokens of passages read for an answer. The bundled 1.5B evaluates about 100 prompt tokens a
# second on 2 cores: 600 put its first token near 5 s and a whole answer near 6.5 s on news, and
# raise reader recall on the pool's fit news sets from 0.56-0.59 (300) to 0.60-0.65
# (docs/news-scale-retrieval.md). An endpoint reads more.
LOCAL_READING_TOKENS = 600
ENDPOINT_READING_TOKENS = 1500
# Unless NEWSDESK_PASSAGES_PER_ANSWER says otherwise, one retrieved sentence is read per this many
# tokens of the reading budget: a news sentence is about 35 tokens, so about half the budget goes
# to the best sentences and the rest to their neighbours (8 for the bundled model, 20 for an
# endpoint). On the pool's fit news sets, the answer is among the best 4 sentences for about half
# the questions and among the best 30 for two thirds: a model that can read more should.
TOKENS_PER_RETRIEVED_SENTENCE = 75
DEFAULT_CHROMA_COLLECTION = "newsdesk"
# What newsdesk appends to NEWSDESK_CHROMA_COLLECTION: the passages and the article signatures.
COLLECTION_SUFFIXES = ("_passages", "_articles")
# Chroma's collection names: 3-512 characters of [a-zA-Z0-9._-], starting and ending with a letter
# or digit, no "..". The suffixes supply the end and the length floor; the prefix must do the rest.
_COLLECTION_PREFIX = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")
_COLLECTION_PREFIX_MAX = 512 - max(len(suffix) for suffix in COLLECTION_SUFFIXES)


class SettingsError(ValueError):
    """A setting (from the environment or `.env`) that newsdesk cannot use; says which and why."""


class Settings(BaseSettings):
    """newsdesk's settings; each field is documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    articles_dir: Path = Field(Path("seeds"), description="The folder of articles to answer from.")
    data_dir: Path = Field(
        Path(".newsdesk"),
        description="This corpus's store: Chroma, keyword index, manifest, uploads, logs.",
    )
    model_dir: Path = Field(
        Path("~/.cache/newsdesk/models"),
        description="Assembled local model files, shared by every store.",
    )
    chroma_url: str | None = Field(
        None,
        description="A Chroma server (http://host:port) instead of the embedded store; the "
        "keyword index and manifest stay in NEWSDESK_DATA_DIR.",
    )
    chroma_collection: str = Field(
        DEFAULT_CHROMA_COLLECTION,
        description="Name of this corpus's collections in Chroma (<name>_passages, "
        "<name>_articles): one name per set of articles and embedding model on a shared server.",
    )
    llm: Literal["local", "openai", "none"] = Field(
        "local",
        description="local: the bundled model; openai: OpenAI or any OpenAI-compatible server; "
        "none: no model, answers are the best supporting sentences.",
    )
    model: str | None = Field(
        None,
        description="local: a packaged model name or a path to a .gguf file; openai: the model id.",
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "NEWSDESK_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "NEWSDESK_OPENAI_BASE_URL")
    )
    llm_timeout: float = Field(60.0, gt=0, description="Seconds before a model call is given up.")
    queue_timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds a question waits for the local model while it answers other "
        "readers' questions, before the reader is told it is busy.",
    )
    host: str = "127.0.0.1"
    auth: SecretStr | None = Field(
        None,
        description="Logins for the page, 'user:password' pairs separated by commas; required "
        "when the page is served beyond loopback.",
    )
    port: int = Field(7860, ge=1, le=65535)

    # Retrieval and answering (see README, "Evaluation").
    passages_per_answer: int | None = Field(
        None, ge=1, le=30,
        description="Most retrieved sentences given to the model (their neighbours are read with "
        "them). Unset: one per 75 tokens of the reading budget, 8 for the bundled model.")
    relevance_gap: float = Field(
        0.3,
        ge=0,
        le=2,
        description="Passages scoring more than this below the best one are not given to the model.",
    )
    min_relevance: float = Field(
        0.38,
        ge=-1,
        le=1,
        description="Best passage's cosine similarity below which the articles are taken not to "
        "hold the answer.",
    )
    min_question_coverage: float = Field(
        0.4,
        ge=0,
        le=1,
        description="Share of the question's words (weighted by rarity) the cited passages must "
        "mention for an answer to be shown.",
    )
    reading_tokens: int | None = Field(
        None,
        ge=50,
        le=100_000,
        description="Tokens of passages the model reads for an answer: the retrieved sentences, "
        "then their neighbours for context, until it is spent. Unset: 600 for the bundled model "
        "(about 5 s of reading on 2 cores), 1500 for a configured endpoint.",
    )
    strictness: float | None = Field(
        None,
        ge=0,
        le=1,
        description="How sure newsdesk must be to answer: the least chance, 0 to 1, that an answer "
        "is right for it to be shown (else it declines and shows the closest sentences). Unset: "
        "the operating point fitted for the model (qa/data/decision.json).",
    )
    verify_answers: bool = Field(
        False,
        description="Ask the model to confirm its answer from the passages (a few tokens more). "
        "Off by default: the bundled 1.5B model confirmed every answer on the gold set.",
    )
    disabled_checks: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Checks of a model's reply to switch off, by name, separated by commas (the "
        "names are in qa/checks.py, CHECK_NAMES): to measure what each one does.",
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused.")
    max_article_bytes: int = Field(
        5_000_000, ge=1000, description="Larger article files are refused, with the reason."
    )
    llm_threads: int = Field(2, ge=1, description="CPU threads for the local model.")
    embedding_model: Literal["minilm", "multilingual-e5-small"] = Field(
        "minilm",
        description="minilm: English, fast; multilingual-e5-small: a question in one language "
        "finds articles in another (~4.5x slower to index). Changing it rebuilds the index.",
    )
    llm_context: int = Field(4096, ge=512, description="Context window of the local model.")
    fetch_timeout: float = Field(
        20.0, gt=0, le=600,
        description="Seconds one web request may take in all (robots.txt, redirects, the body), "
        "however slowly the server answers.")
    feed_interval: float = Field(
        30.0, ge=0,
        description="Minutes between refreshes of the followed feeds while the page runs; 0: never.")

    @field_validator("model", "openai_base_url", "chroma_url", "reading_tokens", "strictness",
                     "passages_per_answer",
                     mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `.env.example` lists every key; an empty `KEY=` line means "use the default".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("disabled_checks", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("chroma_collection", mode="before")
    @classmethod
    def _blank_collection_is_the_default(cls, value: object) -> object:
        return DEFAULT_CHROMA_COLLECTION if isinstance(value, str) and not value.strip() else value

    @field_validator("chroma_collection")
    @classmethod
    def _chroma_collection_name(cls, value: str) -> str:
        if (not _COLLECTION_PREFIX.fullmatch(value) or ".." in value
                or len(value) > _COLLECTION_PREFIX_MAX):
            raise ValueError(
                f"{value!r} cannot name a Chroma collection: use up to {_COLLECTION_PREFIX_MAX} "
                "letters, digits, '.', '_' or '-', starting with a letter or digit, without '..' "
                "(newsdesk adds _passages and _articles)")
        return value

    @field_validator("openai_api_key", "auth", mode="before")
    @classmethod
    def _blank_key_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def model_name(self) -> str:
        """The model to use: the configured one, else the default of the chosen backend."""
        if self.model:
            return self.model
        return DEFAULT_OPENAI_MODEL if self.llm == "openai" else DEFAULT_LOCAL_MODEL

    @property
    def reading_budget(self) -> int:
        """Tokens of passages the model reads for an answer (`reading_tokens`, or the backend's)."""
        if self.reading_tokens:
            return self.reading_tokens
        return LOCAL_READING_TOKENS if self.llm == "local" else ENDPOINT_READING_TOKENS

    @property
    def passages_to_read(self) -> int:
        """Most retrieved sentences the model reads (`passages_per_answer`, or by the budget)."""
        if self.passages_per_answer:
            return self.passages_per_answer
        return max(1, self.reading_budget // TOKENS_PER_RETRIEVED_SENTENCE)

    @property
    def model_files_dir(self) -> Path:
        return self.model_dir.expanduser()

    @property
    def logins(self) -> list[tuple[str, str]]:
        """(user, password) pairs from NEWSDESK_AUTH; malformed pairs raise SettingsError."""
        if self.auth is None:
            return []
        pairs = []
        for item in self.auth.get_secret_value().split(","):
            user, _, password = item.strip().partition(":")
            if not user or not password:
                raise SettingsError("NEWSDESK_AUTH: expected user:password pairs separated by commas")
            pairs.append((user, password))
        return pairs

    @property
    def serves_beyond_loopback(self) -> bool:
        return self.host not in ("127.0.0.1", "localhost", "::1")

    @property
    def collection_names(self) -> tuple[str, str]:
        """The Chroma collections of the passages and of the article signatures."""
        return tuple(self.chroma_collection + suffix for suffix in COLLECTION_SUFFIXES)  # type: ignore[return-value]

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def web_dir(self) -> Path:
        """Pages fetched from the web, each with a sidecar holding its URL."""
        return self.data_dir / "web"

    @property
    def feeds_file(self) -> Path:
        """The followed feeds and what was fetched from each."""
        return self.data_dir / "feeds.json"


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; a broken value becomes a `SettingsError` naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) or "settings"
            env_name = name.upper() if name.upper().startswith("OPENAI") else f"NEWSDESK_{name.upper()}"
            problems.append(f"{env_name}: {item['msg']}")
        raise SettingsError("Invalid setting(s): " + "; ".join(problems)) from None
