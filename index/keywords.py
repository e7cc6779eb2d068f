"""The keyword (BM25) index beside Chroma, brought up to date article by article.

A BM25 score depends on every passage (document frequencies, average length), so bm25s can only
build its index whole (xhluca/bm25s#5). What is slow is not the scores but reading and
tokenizing 250,000 passages: the index keeps each entry's term frequency and each passage's
length beside bm25s's matrix, so an indexing run tokenizes only the passages of articles it
added or changed, drops those of removed ones, and recomputes the scores in a few vectorised
steps. Rows are kept in passage id order and the vocabulary sorted, so the files are the same,
byte for byte, whatever order the articles came in: an updated index is a full rebuild's twin.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np

from index.dates import day_number

# bm25s's files, plus the passage id of each of its rows, ...
KEYWORD_IDS_FILE = "passage_ids.json"
# ... each row's publication day and outlet, so keyword searches are filtered as dense ones, ...
KEYWORD_FIELDS_FILE = "passage_fields.json"
# ... and what an update needs: each matrix entry's term frequency, each row's token count.
KEYWORD_TF_FILE = "term_frequencies.npy"
KEYWORD_LENGTHS_FILE = "passage_lengths.npy"
# A new random stamp at every save: an index in memory is updated only if its files on disk are
# still the ones it was loaded from or saved as (another process may have replaced them since).
KEYWORD_STAMP_FILE = "stamp.txt"
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
# bm25s.BM25's defaults ("lucene" scoring), which the scores below reproduce.
K1, B = 1.5, 0.75
SCORE_SLICE = 1 << 20  # entries scored at a time


@dataclass
class KeywordRows:
    """Passages to index: id, the text BM25 reads (an article's first passage with its title),
    publication day (0: none) and outlet ("": none)."""

    passage_ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    outlets: list[str] = field(default_factory=list)

    def add(self, passage_id: str, text: str, meta: dict) -> None:
        self.passage_ids.append(passage_id)
        self.texts.append(f"{meta.get('title', '')}\n{text}" if meta["ordinal"] == 0 else text)
        self.days.append(int(meta.get("published_day") or day_number(meta.get("published"))))
        self.outlets.append(str(meta.get("outlet") or ""))


@dataclass
class KeywordIndex:
    """BM25 over the stored passages: row i of the model is passage `passage_ids[i]`, published
    on day `days[i]` (0: undated) by outlet `outlet_names[outlet_codes[i]]`."""

    model: object  # bm25s.BM25
    passage_ids: list[str]
    days: np.ndarray
    outlet_codes: np.ndarray
    outlet_names: list[str]
    stamp: str = ""

    @classmethod
    def with_fields(cls, model: object, passage_ids: list[str], days: list[int],
                    outlets: list[str], stamp: str = "") -> KeywordIndex:
        names = sorted(set(outlets))
        code = {name: i for i, name in enumerate(names)}
        return cls(model, passage_ids, np.asarray(days, dtype=np.int64),
                   np.asarray([code[o] for o in outlets], dtype=np.int32), names, stamp)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        ids = json.loads((folder / KEYWORD_IDS_FILE).read_text(encoding="utf-8"))
        fields_file = folder / KEYWORD_FIELDS_FILE
        stored = json.loads(fields_file.read_text(encoding="utf-8")) if fields_file.exists() else {}
        model = bm25s.BM25.load(str(folder), load_corpus=False)
        return cls.with_fields(model, ids, stored.get("days", [0] * len(ids)),
                               stored.get("outlets", [""] * len(ids)), _stamp(folder))

    def mask(self, only) -> np.ndarray:
        """1.0 for each row `only` (a PassageFilter) allows, 0.0 for the others (bm25s's
        weight_mask)."""
        keep = np.ones(len(self.passage_ids), dtype=bool)
        if only.since or only.until:
            keep &= self.days >= (day_number(only.since) if only.since else 1)
        if only.until:
            keep &= self.days <= day_number(only.until)
        if only.outlets:
            wanted = [i for i, name in enumerate(self.outlet_names) if name in only.outlets]
            keep &= np.isin(self.outlet_codes, wanted)
        return keep.astype(np.float32)


@dataclass
class _Entries:
    """The index as (token, row, term frequency) triples, with each row's token count. The
    steps below replace its arrays one by one, so that no two versions of all of them are held."""

    tokens: list[str]  # the vocabulary
    token: np.ndarray  # int32, per entry
    row: np.ndarray  # int32, per entry
    tf: np.ndarray  # int32, per entry
    lengths: np.ndarray  # int64, per row
    passage_ids: list[str]
    days: list[int]
    outlets: list[str]
    # How many entries, from the first, are in the model's column-major order (kept ones are).
    sorted_entries: int = 0


def updated_index(folder: Path, current: KeywordIndex | None, gone: set[str] | None,
                  rows: KeywordRows) -> tuple[KeywordIndex | None, np.ndarray | None, np.ndarray | None]:
    """The index once the passages of articles `gone` are dropped from `current` (saved in
    `folder`) and `rows` added; `gone=None` starts from nothing. Returns the index (None: no
    passages) and the term frequencies and row lengths to save with it."""
    if gone is not None and current is not None:
        entries = _kept_entries(folder, current, gone)
    else:
        entries = _Entries([], np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32),
                           np.zeros(0, np.int64), [], [], [])
    _add_rows(entries, rows)
    if not entries.passage_ids:
        return None, None, None
    _put_in_canonical_order(entries)
    model = _bm25(entries)
    return (KeywordIndex.with_fields(model, entries.passage_ids, entries.days, entries.outlets),
            entries.tf, entries.lengths.astype(np.int32))


def save_index(index: KeywordIndex, tf: np.ndarray, lengths: np.ndarray, folder: Path) -> None:
    index.stamp = uuid.uuid4().hex
    index.model.save(str(folder), show_progress=False)  # type: ignore[attr-defined]
    (folder / KEYWORD_IDS_FILE).write_text(json.dumps(index.passage_ids), encoding="utf-8")
    outlets = [index.outlet_names[code] for code in index.outlet_codes.tolist()]
    (folder / KEYWORD_FIELDS_FILE).write_text(
        json.dumps({"days": index.days.tolist(), "outlets": outlets}, ensure_ascii=False), encoding="utf-8")
    np.save(folder / KEYWORD_TF_FILE, tf)
    np.save(folder / KEYWORD_LENGTHS_FILE, lengths)
    (folder / KEYWORD_STAMP_FILE).write_text(index.stamp, encoding="utf-8")


def can_update(index: KeywordIndex | None, folder: Path) -> bool:
    """Whether `index` can be updated: its files in `folder` are still its own, and keep what an
    update needs (those of earlier versions do not)."""
    return (index is not None and bool(index.stamp) and _stamp(folder) == index.stamp
            and (folder / KEYWORD_TF_FILE).exists() and (folder / KEYWORD_LENGTHS_FILE).exists())


def _stamp(folder: Path) -> str:
    try:
        return (folder / KEYWORD_STAMP_FILE).read_text(encoding="utf-8")
    except OSError:
        return ""


def source_of(passage_id: str) -> str:
    return passage_id.rpartition("#")[0]


def _kept_entries(folder: Path, current: KeywordIndex, gone: set[str]) -> _Entries:
    scores = current.model.scores  # type: ignore[attr-defined]
    indptr = np.asarray(scores["indptr"], dtype=np.int64)
    tokens = [""] * (len(indptr) - 1)  # by column; bm25s's empty-query token "" has none
    for token, column in current.model.vocab_dict.items():  # type: ignore[attr-defined]
        if column < len(tokens):
            tokens[column] = token
    kept_rows = np.fromiter((source_of(passage_id) not in gone for passage_id in current.passage_ids),
                            dtype=bool, count=len(current.passage_ids))
    lengths = np.load(folder / KEYWORD_LENGTHS_FILE).astype(np.int64)
    row = np.asarray(scores["indices"], dtype=np.int32)
    if len(lengths) != len(current.passage_ids):
        raise ValueError("the keyword index's files do not match each other")
    # One array at a time, each replacing its unfiltered version: 4.6 million entries at 10,000
    # articles, 18 MB an array.
    kept = kept_rows[row]
    entries = _Entries(
        tokens=tokens,
        token=np.repeat(np.arange(len(tokens), dtype=np.int32), np.diff(indptr))[kept],
        row=(np.cumsum(kept_rows) - 1).astype(np.int32)[row[kept]],
        tf=np.zeros(0, np.int32), lengths=lengths[kept_rows],
        passage_ids=[p for p, keep in zip(current.passage_ids, kept_rows.tolist()) if keep],
        days=current.days[kept_rows].tolist(),
        outlets=[current.outlet_names[code] for code in current.outlet_codes[kept_rows].tolist()],
        sorted_entries=int(kept.sum()),
    )
    tf = np.load(folder / KEYWORD_TF_FILE)
    if len(tf) != len(row):
        raise ValueError("the keyword index's files do not match each other")
    entries.tf = np.asarray(tf[kept], dtype=np.int32)
    return entries


def _add_rows(entries: _Entries, rows: KeywordRows) -> None:
    """Tokenize `rows` and append them (new words join the vocabulary)."""
    import bm25s

    if not rows.passage_ids:
        return
    tokenized = bm25s.tokenize(rows.texts, stopwords="english", stemmer=_stemmer(),
                               token_pattern=TOKEN_PATTERN, show_progress=False)
    position = {token: i for i, token in enumerate(entries.tokens)}
    for token in tokenized.vocab:
        if token not in position:
            position[token] = len(entries.tokens)
            entries.tokens.append(token)
    global_id = np.zeros(len(tokenized.vocab), dtype=np.int64)
    for token, local_id in tokenized.vocab.items():
        global_id[local_id] = position[token]
    lengths = np.fromiter(map(len, tokenized.ids), dtype=np.int64, count=len(tokenized.ids))
    flat = np.fromiter(chain.from_iterable(tokenized.ids), dtype=np.int64, count=int(lengths.sum()))
    del tokenized
    # One entry per (passage, word), with how often the word occurs in the passage.
    first = len(entries.passage_ids)
    row = np.repeat(np.arange(first, first + len(lengths), dtype=np.int64), lengths)
    width = max(len(entries.tokens), 1)
    pairs, tf = np.unique(row * width + global_id[flat], return_counts=True)
    del row, flat
    entries.token = np.concatenate([entries.token, (pairs % width).astype(np.int32)])
    entries.row = np.concatenate([entries.row, (pairs // width).astype(np.int32)])
    entries.tf = np.concatenate([entries.tf, tf.astype(np.int32)])
    entries.lengths = np.concatenate([entries.lengths, lengths])
    entries.passage_ids = entries.passage_ids + rows.passage_ids
    entries.days = entries.days + rows.days
    entries.outlets = entries.outlets + rows.outlets


def _put_in_canonical_order(entries: _Entries) -> None:
    """Rows in passage id order, the vocabulary sorted and limited to the words some row has."""
    order = sorted(range(len(entries.passage_ids)), key=entries.passage_ids.__getitem__)
    used = np.flatnonzero(np.bincount(entries.token, minlength=len(entries.tokens)))
    words = [entries.tokens[i] for i in used.tolist()]
    word_order = sorted(range(len(words)), key=words.__getitem__)
    token_rank = np.full(len(entries.tokens), -1, dtype=np.int32)
    token_rank[used] = _ranks(word_order)
    entries.tokens = [words[i] for i in word_order]
    entries.token = token_rank[entries.token]
    entries.row = _ranks(order)[entries.row]
    entries.lengths = entries.lengths[order]
    entries.passage_ids = [entries.passage_ids[i] for i in order]
    entries.days = [entries.days[i] for i in order]
    entries.outlets = [entries.outlets[i] for i in order]


def _ranks(order: list[int]) -> np.ndarray:
    """rank[i] = where item i goes, given the items in their new `order`."""
    rank = np.empty(len(order), dtype=np.int32)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int32)
    return rank


def _bm25(entries: _Entries):
    """The bm25s model `BM25().index()` builds from these passages' tokens; leaves the entries
    in the model's (column-major) order.

    The same operations on the same types as bm25s.scoring (lucene idf, Robertson tf part,
    float32 scores), vectorised over all entries instead of looped per passage; the test
    compares the two bit for bit.
    """
    import bm25s

    _sort_by_column(entries)
    n_docs, n_vocab = len(entries.lengths), len(entries.tokens)
    frequency = np.bincount(entries.token, minlength=n_vocab)
    idf = np.zeros(n_vocab, dtype=np.float32)
    for df in np.unique(frequency).tolist():
        if df:
            idf[frequency == df] = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    # tf / (k1 * ((1 - b) + b * length / average) + tf) * idf, in float64 as bm25s computes it
    # for one passage (its float32 term frequencies are exact integers), then rounded to float32;
    # a slice at a time, to hold float64 copies of a slice only.
    length_part = K1 * ((1 - B) + B * entries.lengths.astype(np.float64) / entries.lengths.mean())
    data = np.empty(len(entries.token), dtype=np.float32)
    for start in range(0, len(data), SCORE_SLICE):
        part = slice(start, start + SCORE_SLICE)
        tf = entries.tf[part].astype(np.float64)
        scores = length_part[entries.row[part]]
        scores += tf
        np.divide(tf, scores, out=scores)
        scores *= idf[entries.token[part]]
        data[part] = scores
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(frequency, out=indptr[1:])
    model = bm25s.BM25()
    model.scores = {"data": data, "indices": entries.row,
                    "indptr": indptr, "num_docs": n_docs}
    model.vocab_dict = {token: i for i, token in enumerate(entries.tokens)}
    model.vocab_dict[""] = n_vocab  # as BM25.index adds it, for queries without a known word
    model.unique_token_ids_set = set(model.vocab_dict.values())
    model.nonoccurrence_array = None
    return model


def _sort_by_column(entries: _Entries) -> None:
    """Entries in bm25s's column-major order (_np_csc): by word, then by row.

    After a small update the kept entries, first, are in that order already (renumbering
    keeps it) and the few new ones are merged in; otherwise all are sorted.
    """
    kept = entries.sorted_entries
    new = len(entries.token) - kept
    if kept and new * 20 < kept and _in_column_order(entries.token[:kept], entries.row[:kept]):
        if new:  # (none when articles were only removed)
            token, row = entries.token[kept:], entries.row[kept:]
            order = np.lexsort((row, token))
            token, row, tf = token[order], row[order], entries.tf[kept:][order]
            first = np.searchsorted(entries.token[:kept], token, side="left")
            last = np.searchsorted(entries.token[:kept], token, side="right")
            at = np.asarray([a + np.searchsorted(entries.row[a:b], r) for a, b, r in
                             zip(first.tolist(), last.tolist(), row.tolist())], dtype=np.int64)
            entries.token = np.insert(entries.token[:kept], at, token)
            entries.row = np.insert(entries.row[:kept], at, row)
            entries.tf = np.insert(entries.tf[:kept], at, tf)
    else:  # stable: quick on long runs already in order
        order = np.argsort((entries.token.astype(np.int64) << 32) | entries.row, kind="stable")
        entries.token = entries.token[order]
        entries.row = entries.row[order]
        entries.tf = entries.tf[order]
    entries.sorted_entries = len(entries.token)


def _in_column_order(token: np.ndarray, row: np.ndarray) -> bool:
    if len(token) < 2:
        return True
    rising = token[1:] > token[:-1]
    return bool(np.all(rising | ((token[1:] == token[:-1]) & (row[1:] > row[:-1]))))


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer, installed with bm25s

    return Stemmer.Stemmer("english")


def query_tokens(query: str):
    """A question's words as the index knows them (stemmed; stopwords kept, as bm25s does)."""
    import bm25s

    return bm25s.tokenize(query, stemmer=_stemmer(), token_pattern=TOKEN_PATTERN, show_progress=False)
