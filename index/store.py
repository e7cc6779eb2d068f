"""The passage store: vectors in Chroma, a BM25 keyword index beside it, and a manifest.

The manifest records each indexed article's content hash, so re-indexing skips unchanged
articles, and the embedding model and collection it describes. The same record is kept on each
article's row in Chroma, so a newsdesk that finds a collection without a manifest (a second one
sharing a Chroma server, a new host) adopts what it holds instead of deleting or re-embedding it.
Every passage carries its article's outlet and publication date, so that searches can be limited
to a period or to outlets (`PassageFilter`) on the vector side and the keyword side alike.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from index.embedding import MODEL_IDS, MiniLMEmbedding, load_embedding_model
from index.keywords import (KEYWORD_FIELDS_FILE, KEYWORD_IDS_FILE, KeywordIndex, KeywordRows,
                            can_update, query_tokens, save_index, updated_index)
from index.settings import Settings
from index.store_rows import (ArticleRecord, Manifest, PassageFilter, StoredPassage, StoreError,
                              collection_pages, passage_metadata, record_from_metadata,
                              record_metadata, rows_of_articles, stored_passage)

# The collections are named by NEWSDESK_CHROMA_COLLECTION (Settings.collection_names): one of
# passages, and one with a vector per article (the mean of its sentences' vectors), to find the
# same story told twice, whose rows also carry the articles' manifest records.
MAX_WRITE_BATCH = 4000
# HNSW insertion was most of indexing's cost besides the embedding model (1.4 ms of CPU a sentence
# at Chroma's ef_construction 100; 1.1 at 50). Searches still look at 100 neighbours (ef_search).
# Chroma keeps the configuration a collection was created with: older stores are unchanged.
HNSW_CONFIGURATION = {"hnsw": {"space": "cosine", "ef_construction": 50}}
log = logging.getLogger(__name__)


class PassageStore:
    """Chroma collection + BM25 index + manifest under `settings.data_dir`."""

    def __init__(self, settings: Settings, embedding_model: MiniLMEmbedding | None = None):
        self.settings = settings
        self.data_dir = settings.data_dir
        self.manifest_path = self.data_dir / "manifest.json"
        self.keyword_dir = self.data_dir / "keyword"
        self._embedding_model = embedding_model
        self.model_id = MODEL_IDS[settings.embedding_model]
        # Why this store was emptied when it was opened (another embedding model built it), if so.
        self.rebuilt_because: str | None = None
        self._stories = None
        self._keyword: KeywordIndex | None = None
        self._keyword_lock = threading.Lock()
        # Articles whose passages are being replaced: readers do not see them until they are whole.
        self._rewriting: frozenset[str] = frozenset()
        self._rewriting_lock = threading.Lock()
        # Chroma counts by reading its tables (55 ms at 250,000 passages) and a question asks up
        # to three times: a count above zero is kept, and forgotten whenever this store writes.
        self._count: int | None = None
        self._count_lock = threading.Lock()
        self._writes = 0
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"Cannot create the data folder {self.data_dir} ({error.strerror or error}): set "
                "NEWSDESK_DATA_DIR to a folder newsdesk can write."
            ) from None
        self.manifest = Manifest.load(self.manifest_path)
        if self.keyword_dir.is_dir() and not all(
                (self.keyword_dir / name).exists() for name in (KEYWORD_IDS_FILE, KEYWORD_FIELDS_FILE)):
            # A keyword index of an earlier version (llama-index's BM25Retriever, or one without
            # the passages' dates and outlets): built again at the next indexing run, which every
            # question starts with.
            self.manifest.keyword_index_stale = True
        self._collection, self._articles = self._open_collection()

    # ----- opening -------------------------------------------------------------------------
    def _open_collection(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            client = self._client(chromadb, chroma_settings)
            passages, articles = self._get_or_create(client)
            built_with = str((passages.metadata or {}).get("embedding_model") or "")
            if self.settings.chroma_url:
                # A server's collection may be other newsdesks' too: never emptied from here.
                if built_with and built_with != self.model_id:
                    raise StoreError(self._refusal(built_with))
                if not self._manifest_describes(passages):
                    if not built_with and passages.count():
                        raise StoreError(self._refusal(built_with))
                    self._adopt(passages, articles)
                return passages, articles
            # The embedded store is this data folder's alone: what the manifest cannot vouch for
            # is emptied and indexed again.
            other_model = (self.manifest.embedding_model if self.manifest.embedding_model not in
                           ("", self.model_id) else built_with if built_with not in ("", self.model_id)
                           else "")
            if other_model:
                # Vectors of two models cannot be compared: start the store again.
                self.rebuilt_because = (
                    f"the index was built with {other_model}, now {self.model_id} "
                    f"(NEWSDESK_EMBEDDING_MODEL={self.settings.embedding_model}): rebuilding it")
                log.warning("%s", self.rebuilt_because)
            if other_model or not self.manifest.embedding_model:
                # No manifest, or an unreadable one: what Chroma holds cannot be trusted either.
                self._drop_collection(client)
                passages, articles = self._get_or_create(client)
            elif not self._manifest_describes(passages):  # NEWSDESK_CHROMA_COLLECTION changed
                self._adopt(passages, articles)
            return passages, articles
        except StoreError:
            raise
        except Exception as error:  # chromadb raises many kinds; the user needs one message
            hint = "" if self.settings.chroma_url else (
                ": is NEWSDESK_DATA_DIR a folder newsdesk can read and write?")
            raise StoreError(f"Cannot open the Chroma store in {self.data_dir} ({error}){hint}") from None

    def _get_or_create(self, client):
        # A collection that exists keeps its metadata: it says which model built it.
        metadata = {"hnsw:space": "cosine", "embedding_model": self.model_id}
        passages_name, articles_name = self.settings.collection_names
        return (client.get_or_create_collection(passages_name, metadata=metadata,
                                                configuration=HNSW_CONFIGURATION),
                client.get_or_create_collection(articles_name, metadata=metadata))

    def _manifest_describes(self, passages) -> bool:
        """Whether the manifest of this data folder is a record of the collection `passages`."""
        manifest = self.manifest
        if manifest.embedding_model != self.model_id:
            return False
        if manifest.collection_id:
            return manifest.collection_id == str(passages.id)
        # A manifest from before collection ids were kept: it describes this collection unless the
        # collection lacks what it lists (a server emptied or replaced since).
        if manifest.articles and not passages.count():
            return False
        manifest.collection_id = str(passages.id)
        return True

    def _refusal(self, built_with: str) -> str:
        name = self.settings.collection_names[0]
        built = f"was built with {built_with}" if built_with else "holds vectors of an unknown model"
        return (
            f"The Chroma collection {name} on {self.settings.chroma_url} {built}, and this "
            f"newsdesk embeds with {self.model_id} (NEWSDESK_EMBEDDING_MODEL="
            f"{self.settings.embedding_model}). Vectors of two models cannot be mixed, and a "
            "collection on a server is never emptied by newsdesk: set NEWSDESK_CHROMA_COLLECTION "
            f"(now {self.settings.chroma_collection!r}) to a name of its own for this model, or "
            "NEWSDESK_EMBEDDING_MODEL to the model that built it.")

    def _adopt(self, passages, articles) -> None:
        """Make the manifest a record of what the collection holds, which this data folder knows
        nothing of: a second newsdesk on a shared server, a new host, a renamed collection.

        Nothing is deleted or embedded: each article's record is read from its row in the
        articles collection, so the next indexing run skips the articles it has too, unchanged,
        and leaves alone those it lacks (they are marked adopted). Only the keyword index is
        built again, from the collection's passages.
        """
        records = self._records_in(passages, articles)
        shutil.rmtree(self.keyword_dir, ignore_errors=True)
        (self.data_dir / "stories.json").unlink(missing_ok=True)
        self.manifest = Manifest(embedding_model=self.model_id, collection_id=str(passages.id),
                                 keyword_index_stale=bool(records), articles=records)
        if records:
            log.warning("adopted the %d articles of the Chroma collection %s", len(records),
                        self.settings.collection_names[0])
        try:
            self.manifest.save(self.manifest_path)
        except OSError as error:  # a read-only data folder: adopted again at the next start
            log.warning("cannot write %s (%s)", self.manifest_path, error.strerror or error)

    @staticmethod
    def _records_in(passages, articles) -> dict[str, ArticleRecord]:
        records: dict[str, ArticleRecord] = {}
        for batch in collection_pages(articles, "metadatas"):
            for source, meta in zip(batch["ids"], batch["metadatas"]):
                if meta and "content_hash" in meta:
                    records[source] = record_from_metadata(source, meta)
        if sum(record.passages for record in records.values()) == passages.count():
            return records
        # Passages of articles without a record (an older newsdesk wrote them, or a run was cut
        # short): described from their passages, with no content hash, so that the next indexing
        # run compares them with its own copy of the article before it embeds anything.
        unrecorded: dict[str, ArticleRecord] = {}
        for batch in collection_pages(passages, "metadatas"):
            for meta in batch["metadatas"]:
                source = str(meta["source"])
                if source in records:
                    continue
                record = unrecorded.get(source)
                if record is None:
                    record = unrecorded[source] = ArticleRecord(
                        source=source, path="", content_hash="", title=str(meta.get("title", "")),
                        outlet=meta.get("outlet") or None, published=meta.get("published") or None,
                        size=0, passages=0, metadata_version=0, adopted=True)
                record.passages += 1
        return records | unrecorded

    def _client(self, chromadb, chroma_settings):
        url = self.settings.chroma_url
        if not url:
            return chromadb.PersistentClient(path=str(self.data_dir / "chroma"), settings=chroma_settings)
        from urllib.parse import urlparse

        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(f"NEWSDESK_CHROMA_URL={url!r} is not an http(s)://host:port address")
        try:
            return chromadb.HttpClient(
                host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https", settings=chroma_settings,
            )
        except Exception as error:  # connection refused, wrong protocol, ...
            raise StoreError(f"The Chroma server at {url} could not be reached: {error}") from None

    def _drop_collection(self, client) -> None:
        for name in self.settings.collection_names:
            try:
                client.delete_collection(name)
            except Exception:  # absent already
                pass
        shutil.rmtree(self.keyword_dir, ignore_errors=True)
        (self.data_dir / "stories.json").unlink(missing_ok=True)
        self.manifest = Manifest(embedding_model=self.model_id)

    @property
    def embedding_model(self) -> MiniLMEmbedding:
        if self._embedding_model is None:
            self._embedding_model = load_embedding_model(self.settings.llm_threads,
                                                         self.settings.embedding_model)
        return self._embedding_model

    @property
    def stories(self):
        """Which articles tell the same story (index/stories.py), as of the last indexing run."""
        if self._stories is None:
            from index.stories import STORIES_FILE, STORY_SIMILARITY, Stories

            self._stories = Stories.load(self.data_dir / STORIES_FILE, self.model_id,
                                         STORY_SIMILARITY[self.settings.embedding_model])
        return self._stories

    def save_stories(self, stories) -> None:
        """Make `stories` the store's stories, and save them."""
        from index.stories import STORIES_FILE

        self._stories = stories
        try:
            stories.save(self.data_dir / STORIES_FILE)
        except OSError as error:
            raise StoreError(
                f"Cannot write {self.data_dir / STORIES_FILE} ({error.strerror or error}): is the "
                "data folder read-only or full?"
            ) from None

    @property
    def vector_store(self):
        """The collection as a llama-index vector store, for llama-index pipelines."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self._collection)

    # ----- writing -------------------------------------------------------------------------
    @contextmanager
    def rewriting(self, sources: Iterable[str]) -> Iterator[None]:
        """Hide these articles from searches while their passages are deleted and written again.

        Chroma's delete and add are separate calls: between them, and between write batches, an
        article is half there. Questions answered meanwhile see the other articles only.
        """
        sources = frozenset(sources)
        with self._rewriting_lock:
            self._rewriting = self._rewriting | sources
        try:
            yield
        finally:
            with self._rewriting_lock:
                self._rewriting = self._rewriting - sources

    def delete_article(self, source: str) -> None:
        self.delete_articles([source])

    def delete_articles(self, sources: list[str]) -> None:
        """Every passage of these articles; one call, as Chroma reads its metadata at each call."""
        if not sources:
            return
        where = {"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}}
        with self._writing():
            self._collection.delete(where=where)  # type: ignore[arg-type]
            self._articles.delete(ids=list(sources))

    def add_passages(self, rows: list[StoredPassage], vectors) -> None:
        if not rows:
            return
        # Chroma refuses batches over its limit (5461 rows here): write in slices.
        for first in range(0, len(rows), MAX_WRITE_BATCH):
            batch = rows[first : first + MAX_WRITE_BATCH]
            with self._writing():
                self._collection.upsert(
                    ids=[row.passage_id for row in batch],
                    embeddings=vectors[first : first + MAX_WRITE_BATCH],
                    documents=[row.text for row in batch],
                    metadatas=[passage_metadata(row) for row in batch],
                )

    def add_article_vectors(self, vectors: dict[str, list[float]],
                            records: dict[str, ArticleRecord]) -> None:
        """Each article's signature (the mean of its sentence vectors) and manifest record, by
        article id."""
        if not vectors:
            return
        with self._writing():
            self._articles.upsert(ids=list(vectors), embeddings=[list(map(float, v)) for v in vectors.values()],
                                  metadatas=[record_metadata(records[source]) for source in vectors])

    def update_records(self, records: list[ArticleRecord]) -> None:
        """Rewrite articles' records beside their signatures (an article whose fields changed)."""
        if not records:
            return
        # Only rows that exist: an article indexed before signatures were kept gets its row, with
        # its record, when the stories are brought up to date.
        existing = set(self._articles.get(ids=[record.source for record in records], include=[])["ids"])
        records = [record for record in records if record.source in existing]
        if not records:
            return
        with self._writing():
            self._articles.update(ids=[record.source for record in records],
                                  metadatas=[record_metadata(record) for record in records])

    def article_vectors(self, sources: list[str]) -> dict[str, list[float]]:
        if not sources:
            return {}
        found = self._articles.get(ids=list(sources), include=["embeddings"])
        return dict(zip(found["ids"], found["embeddings"]))

    def nearest_articles(self, vector, k: int) -> list[tuple[str, float]]:
        """(article id, cosine) of the `k` articles whose signatures are nearest to `vector`."""
        total = self._articles.count()
        if total == 0:
            return []
        found = self._articles.query(query_embeddings=[list(map(float, vector))],
                                     n_results=min(k, total), include=["distances"])
        return [(source, 1.0 - distance) for source, distance in zip(found["ids"][0], found["distances"][0])]

    def article_passage_vectors(self, source: str):
        """The stored vectors of one article's passages (a signature for stores built before)."""
        found = self._collection.get(where={"source": source}, include=["embeddings"])
        return found["embeddings"]

    def update_fields(self, rows: list[StoredPassage]) -> None:
        """Write passages' article fields (title, outlet, date) without touching their vectors:
        an article whose metadata changed but whose sentences did not."""
        for first in range(0, len(rows), MAX_WRITE_BATCH):
            batch = rows[first : first + MAX_WRITE_BATCH]
            with self._writing():
                self._collection.update(ids=[row.passage_id for row in batch],
                                        metadatas=[passage_metadata(row) for row in batch])

    def stored_spans(self, sources: list[str]) -> dict[str, list[tuple[int, int, int, str]]]:
        """(ordinal, start, end, text) of each stored passage of these articles, in order."""
        spans: dict[str, list[tuple[int, int, int, str]]] = {source: [] for source in sources}
        for batch in rows_of_articles(self._collection, sources, "metadatas", "documents"):
            for meta, text in zip(batch["metadatas"], batch["documents"]):
                spans[str(meta["source"])].append(
                    (int(meta["ordinal"]), int(meta["start"]), int(meta["end"]), text))
        return {source: sorted(found) for source, found in spans.items()}

    def text_from_passages(self, source: str) -> str:
        """An article's text as far as its stored passages give it: each at its offsets, blanks
        between, so that citation offsets index it as they index the article's file."""
        # Another newsdesk wrote these offsets: ones that make no sense are left out, and the
        # text is never longer than an article may be.
        spans = [(start, end, passage) for _, start, end, passage in self.stored_spans([source])[source]
                 if 0 <= start < end <= self.settings.max_article_bytes]
        text = [" "] * max((end for _, end, _ in spans), default=0)
        for start, end, passage in spans:
            text[start:end] = passage[: end - start].ljust(end - start)
        return "".join(text)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        # A full disk or a read-only folder surfaces as one of many chromadb/sqlite errors.
        try:
            yield
        except Exception as error:
            raise StoreError(
                f"Cannot write to the Chroma store in {self.data_dir} ({error}): is the data "
                "folder read-only or full?"
            ) from None
        finally:
            with self._count_lock:
                self._writes += 1
                self._count = None

    def save_manifest(self) -> None:
        self.manifest.embedding_model = self.model_id
        self.manifest.collection_id = str(self._collection.id)
        try:
            self.manifest.save(self.manifest_path)
        except OSError as error:
            raise StoreError(
                f"Cannot write {self.manifest_path} ({error.strerror or error}): is the data "
                "folder read-only or full?"
            ) from None

    def rebuild_keyword_index(self, changed: Iterable[str] | None = None) -> None:
        """Bring BM25 up to date with the stored passages.

        With `changed` (the articles added, updated or removed since the index was last brought
        up to date), only those articles' passages are read and tokenized (index/keywords.py);
        without it, or when the saved index cannot be updated, every passage is. Built beside
        the current index and swapped in: searches meanwhile use the previous one. Only passage
        ids are kept beside the BM25 matrix, not the passages (llama-index's BM25Retriever kept
        a copy of every node: 1.8 KB a passage, 450 MB at 250,000).
        """
        current = self._keyword_index() if changed is not None else None
        gone = set(changed) if changed is not None and can_update(current, self.keyword_dir) else None
        try:
            index, tf, lengths = updated_index(self.keyword_dir, current, gone,
                                               self._keyword_rows(None if gone is None else sorted(gone)))
        except (OSError, ValueError) as error:  # files of an index cut short: build it whole
            log.warning("keyword index not updated (%s): building it again", error)
            index, tf, lengths = updated_index(self.keyword_dir, None, None, self._keyword_rows(None))
        staging = self.keyword_dir.with_name("keyword.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        if index is not None:
            try:
                save_index(index, tf, lengths, staging)  # type: ignore[arg-type]
            except OSError as error:
                raise StoreError(
                    f"Cannot write the keyword index in {self.data_dir} ({error.strerror or error}): "
                    "is the data folder read-only or full?"
                ) from None
        with self._keyword_lock:
            shutil.rmtree(self.keyword_dir, ignore_errors=True)
            if index is not None:
                os.replace(staging, self.keyword_dir)
            self._keyword = index
        self.manifest.keyword_index_stale = False
        self.save_manifest()

    def _keyword_rows(self, sources: list[str] | None) -> KeywordRows:
        """The passages of these articles (None: of every article) as the keyword index reads
        them."""
        rows = KeywordRows()
        include = ("documents", "metadatas")
        batches = (collection_pages(self._collection, *include) if sources is None
                   else rows_of_articles(self._collection, sources, *include))
        for batch in batches:
            for passage_id, text, meta in zip(batch["ids"], batch["documents"], batch["metadatas"]):
                rows.add(passage_id, text, meta)
        return rows

    # ----- reading -------------------------------------------------------------------------
    def count(self) -> int:
        """How many passages the store holds."""
        with self._count_lock:
            if self._count is not None:
                return self._count
            writes = self._writes
        counted = self._collection.count()
        with self._count_lock:
            # Kept unless a write ended meanwhile (one still under way forgets it as it ends).
            # Zero is not kept: it costs nothing to count, and another store object of this
            # process (a test's, a script's) may fill the collection without this one knowing.
            if writes == self._writes and counted > 0:
                self._count = counted
        return counted

    def all_passages(self) -> list[StoredPassage]:
        rows: list[StoredPassage] = []
        page = 5000
        offset = 0
        while True:
            batch = self._collection.get(
                include=["documents", "metadatas"], limit=page, offset=offset
            )
            for passage_id, text, meta in zip(
                batch["ids"], batch["documents"], batch["metadatas"]
            ):
                rows.append(stored_passage(passage_id, text, meta, 0.0))
            if len(batch["ids"]) < page:
                return rows
            offset += page

    def get_passages_with_vectors(self, passage_ids: list[str]) -> dict[str, tuple[StoredPassage, list[float]]]:
        if not passage_ids:
            return {}
        batch = self._collection.get(
            ids=passage_ids, include=["documents", "metadatas", "embeddings"]
        )
        hidden = self._rewriting
        return {
            passage_id: (stored_passage(passage_id, text, meta, 0.0), vector)
            for passage_id, text, meta, vector in zip(
                batch["ids"], batch["documents"], batch["metadatas"], batch["embeddings"]
            )
            if meta["source"] not in hidden
        }

    def article_passages(self, sources: list[str]) -> list[tuple[StoredPassage, list[float]]]:
        """Every passage of these articles with its vector, in article and passage order."""
        found: list[tuple[StoredPassage, list[float]]] = []
        shown = [source for source in sources if source not in self._rewriting]
        # Groups of 100 articles: their vectors are most of what a read holds in memory.
        for batch in rows_of_articles(self._collection, shown, "documents", "metadatas", "embeddings", group=100):
            for passage_id, text, meta, vector in zip(batch["ids"], batch["documents"],
                                                      batch["metadatas"], batch["embeddings"]):
                found.append((stored_passage(passage_id, text, meta, 0.0), vector))
        position = {source: i for i, source in enumerate(sources)}
        return sorted(found, key=lambda item: (position[item[0].source], item[0].ordinal))

    def dense_search(self, query_vector, k: int, sources: list[str] | None = None,
                     only: PassageFilter | None = None) -> list[StoredPassage]:
        """Nearest passages by cosine similarity (the score is the cosine, -1 to 1), of the
        articles `sources` only when given, among those `only` allows."""
        if sources == [] or self.count() == 0:
            return []
        hidden = self._rewriting
        clauses = []
        if sources:
            clauses.append({"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}})
        if only and only.where():
            clauses.append(only.where())
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        result = self._collection.query(  # fewer than k passages stored: Chroma returns them all
            query_embeddings=[list(map(float, query_vector))],
            n_results=k,
            where=where,  # type: ignore[arg-type]
            include=["documents", "metadatas", "distances"],
        )
        similarities = self.embedding_model.similarity([1.0 - d for d in result["distances"][0]])
        return [
            stored_passage(passage_id, text, meta, float(similarity))
            for passage_id, text, meta, similarity in zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                similarities,
            )
            if meta["source"] not in hidden
        ]

    def keyword_search(self, query: str, k: int, only: PassageFilter | None = None) -> list[tuple[str, float]]:
        """(passage id, BM25 score) of the best keyword matches among the passages `only` allows."""
        index = self._keyword_index()
        if index is None:
            return []
        mask = index.mask(only) if only else None
        if mask is not None and not mask.any():
            return []
        tokens = query_tokens(query)
        with self._keyword_lock:
            # bm25s refuses a k larger than the corpus (a folder of one short article).
            found, scores = index.model.retrieve(tokens, k=min(k, len(index.passage_ids)),
                                                 show_progress=False, weight_mask=mask)
        return [(index.passage_ids[int(i)], float(score))
                for i, score in zip(found[0], scores[0]) if score > 0]

    def words_in_articles(self, words: set[str]) -> set[str]:
        """Those of the stemmed `words` that some stored passage has."""
        index = self._keyword_index()
        if index is None:
            return set(words)
        return {word for word in words if word in index.model.vocab_dict}

    def word_rarity(self, words: set[str]) -> dict[str, float]:
        """Inverse document frequency of each stemmed word over the stored passages.

        Read from the BM25 index, which has already counted them: a word no passage has gets
        the highest rarity, a word in every passage almost none.
        """
        index = self._keyword_index()
        if index is None:
            return {word: 1.0 for word in words}
        model = index.model
        total, indptr, vocabulary = model.scores["num_docs"], model.scores["indptr"], model.vocab_dict
        rarity = {}
        for word in words:
            index = vocabulary.get(word)
            frequency = 0 if index is None else int(indptr[index + 1] - indptr[index])
            rarity[word] = math.log((total + 1) / (frequency + 0.5))
        return rarity

    def _keyword_index(self) -> KeywordIndex | None:
        if self._keyword is None and (self.keyword_dir / KEYWORD_IDS_FILE).exists():
            with self._keyword_lock:
                if self._keyword is None:
                    self._keyword = KeywordIndex.load(self.keyword_dir)
        return self._keyword


