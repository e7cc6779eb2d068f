"""Bringing the store up to date with the articles folder, the uploads and the pages fetched from the web.

Unchanged articles (same content hash) are skipped, changed ones replaced, deleted ones removed.
An article whose sidecar changed, or that an earlier version of newsdesk read, is read again; if
its sentences are the same, only its passages' fields (title, outlet, date) are rewritten, without
embedding anything. An article is deleted from the store before it is written again, so a run
interrupted at any point leaves no duplicate: the next run redoes what the manifest does not yet
record.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from index.articles import (ARTICLE_SUFFIXES, METADATA_VERSION, SIDECAR_SUFFIX, Article,
                            ArticleError, check_size, content_hash, find_articles_and_sidecars,
                            read_article, sidecar_hash)
from index.passages import split_passages
from index.settings import Settings
from index.stories import signature, update_stories
from index.store import ArticleRecord, PassageStore, StoredPassage

# Upload ids start with a hidden folder name, which no article of the folder can have (hidden
# files and folders are skipped there): an articles subfolder "uploads/" cannot collide with them.
UPLOADS_PREFIX = ".uploads/"
# Pages fetched from the web (index/web.py), kept in NEWSDESK_DATA_DIR/web/: hidden like uploads.
WEB_PREFIX = ".web/"
# Articles are embedded in groups of about this many passages: large enough to batch well.
GROUP_PASSAGES = 2048
# Share of a run spent recording its progress. Saving the manifest after every group cost
# O(articles) each time (minutes at 10,000 articles); it is saved once the work since the last
# save is 1/share times what that save took. An interrupted run redoes the unrecorded groups,
# without duplicates: every article is deleted before it is written again.
MANIFEST_SAVE_SHARE = 0.05

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class IndexReport:
    """What one indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    # Articles another newsdesk indexed into the shared collection, with no file here: answered
    # from, left alone.
    shared: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # source -> reason
    # source -> the article it repeats byte for byte; both are indexed and listed, and retrieval
    # keeps one copy of each sentence, so an answer never cites the same sentence twice.
    duplicates: dict[str, str] = field(default_factory=dict)
    passages_embedded: int = 0
    seconds: float = 0.0
    # Set when the store was emptied first: another embedding model had built it.
    rebuilt_because: str | None = None
    # source -> metadata given (in a sidecar or front-matter) that could not be used, and why;
    # the article itself is indexed.
    warnings: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        line = (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged"
        )
        if self.shared:
            line += f", {self.shared} of other newsdesks"
        if self.refused:
            line += f", {len(self.refused)} refused"
        if self.duplicates:
            line += f", {len(self.duplicates)} duplicate{'s' if len(self.duplicates) != 1 else ''}"
        line += f" ({self.passages_embedded} passages embedded in {self.seconds:.1f} s)"
        return f"{self.rebuilt_because[0].upper()}{self.rebuilt_because[1:]}. {line}" if self.rebuilt_because else line


def article_files(settings: Settings) -> dict[str, Path]:
    """Every article file newsdesk answers from, by article id."""
    return {source: path for source, (path, _) in article_listing(settings).items()}


def article_listing(settings: Settings) -> dict[str, tuple[Path, Path | None]]:
    """Every article newsdesk answers from, by article id: its file and its sidecar, if any."""
    listing: dict[str, tuple[Path, Path | None]] = {}
    for prefix, folder in _sources(settings):
        found, sidecars = find_articles_and_sidecars(folder)
        for source, path in found:
            listing[prefix + source] = (path, sidecars.get(source))
    return listing


def _sources(settings: Settings) -> tuple[tuple[str, Path], ...]:
    """(id prefix, folder) of each place articles come from: the folder, uploads, the web."""
    return (("", settings.articles_dir), (UPLOADS_PREFIX, settings.uploads_dir),
            (WEB_PREFIX, settings.web_dir))


def articles_signature(settings: Settings) -> tuple[tuple[str, int, int], ...]:
    """(file id, size, modification time) of each article file and each sidecar: what tells,
    before every question, whether the folders changed since the last indexing run.

    One directory walk and one stat per file, nothing else: at 10,000 articles this takes about
    half the time of `article_files()` with a `Path.stat()` per file (the stat calls themselves
    are most of what is left). A link leading out of a folder, or a sidecar of no article, may be
    counted here: it can only cause a needless (and cheap) indexing run, never a missed one.
    """
    found: list[tuple[str, int, int]] = []
    for prefix, folder in _sources(settings):
        _stat_walk(str(folder), prefix, found)
    found.sort()
    return tuple(found)


def _stat_walk(directory: str, relative: str, found: list[tuple[str, int, int]]) -> None:
    try:
        with os.scandir(directory) as listing:
            for entry in listing:
                name = entry.name
                if name.startswith("."):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        _stat_walk(entry.path, f"{relative}{name}/", found)
                    elif name.lower().endswith(ARTICLE_SUFFIXES) or name.endswith(SIDECAR_SUFFIX):
                        status = entry.stat()
                        found.append((relative + name, status.st_size, status.st_mtime_ns))
                except OSError:  # vanished meanwhile, or a dangling link: not an article
                    continue
    except OSError:  # a folder that vanished or cannot be read holds no articles
        return


def article_path(settings: Settings, source: str) -> Path:
    """The file of an article id; raises ArticleError for an id that names no article."""
    if source.startswith(UPLOADS_PREFIX):
        base, relative = settings.uploads_dir, source[len(UPLOADS_PREFIX) :]
    elif source.startswith(WEB_PREFIX):
        base, relative = settings.web_dir, source[len(WEB_PREFIX) :]
    else:
        base, relative = settings.articles_dir, source
    hidden = any(part.startswith(".") for part in Path(relative).parts)
    path = (base / relative).resolve()
    if hidden or base.resolve() not in path.parents or not path.is_file():
        raise ArticleError(f"No article {source!r} in {base}")
    return path


def has_article_file(settings: Settings, source: str) -> bool:
    """Whether article `source` has its file here (not only passages in a shared collection)."""
    try:
        article_path(settings, source)
    except ArticleError:
        return False
    return True


def article_text(source: str, settings: Settings | None = None, store: PassageStore | None = None) -> str:
    """The text that citation offsets of article `source` index.

    An article another newsdesk indexed into a shared collection (adopted) has no file here: with
    the `store`, its text is what its stored sentences give, each at its offsets.
    """
    from index.settings import load_settings

    settings = settings or load_settings()
    try:
        path = article_path(settings, source)
    except ArticleError:
        record = store.manifest.articles.get(source) if store is not None else None
        if record is None or not record.adopted:
            raise
        return store.text_from_passages(source)  # type: ignore[union-attr]
    return read_article(path, source, max(settings.max_article_bytes, path.stat().st_size)).text


def build_index(
    settings: Settings,
    store: PassageStore | None = None,
    progress: ProgressCallback | None = None,
) -> IndexReport:
    """Bring the store up to date with the articles; return what changed."""
    started = time.perf_counter()
    store = store or PassageStore(settings)
    report = IndexReport(rebuilt_because=store.rebuilt_because)
    store.rebuilt_because = None  # said once
    files = article_listing(settings)
    # A keyword index left stale by an earlier run (cut short, or an adopted collection) is
    # built whole; otherwise only this run's articles are tokenized again.
    keyword_index_behind = store.manifest.keyword_index_stale

    _remove_missing(store, files, report)
    pending, reread, claimed = _changed_articles(settings, store, files, report)
    if reread:
        pending += [(article, True) for article in _update_fields(store, reread, report)]
    if report.removed or pending or reread:
        store.manifest.keyword_index_stale = True
        store.save_manifest()
    elif claimed:
        store.save_manifest()
    _embed(store, pending, report, progress)

    if report.changed or store.manifest.keyword_index_stale:
        # Refused articles too: one that lost its sentences also lost its stored passages.
        touched = {*report.added, *report.updated, *report.removed, *report.refused}
        store.rebuild_keyword_index(None if keyword_index_behind else touched)
    update_stories(store, changed=report.updated)
    report.duplicates = _duplicates(store.manifest.articles.values())
    report.seconds = time.perf_counter() - started
    return report


def _remove_missing(store: PassageStore, files: dict, report: IndexReport) -> None:
    """Forget the articles whose files are gone (not another newsdesk's, in a shared collection)."""
    known = store.manifest.articles
    for source in sorted(set(known) - set(files)):
        if known[source].adopted:  # another newsdesk's article, in a shared collection
            report.shared += 1
            continue
        store.delete_article(source)
        del known[source]
        report.removed.append(source)


def _changed_articles(settings: Settings, store: PassageStore, files: dict, report: IndexReport
                      ) -> tuple[list[tuple[Article, bool]], list[Article], bool]:
    """The articles to embed (with whether each replaces a stored one), those whose text is the
    same but are read again for their fields, and whether an adopted article was claimed."""
    known = store.manifest.articles
    pending: list[tuple[Article, bool]] = []
    reread: list[Article] = []  # same file, read again for its fields
    claimed = False
    for source, (path, sidecar) in files.items():
        try:
            check_size(path, source, settings.max_article_bytes)  # before reading any of it
            data_hash = _file_hash(path)
            record = known.get(source)
            # An adopted article whose content hash is unknown (an older newsdesk indexed it) is
            # read again and compared passage by passage with what is stored, as one whose
            # sidecar changed: embedded again only if its passages differ.
            same_text = record is not None and record.content_hash in (data_hash, "")
            if (same_text and record.content_hash == data_hash  # type: ignore[union-attr]
                    and record.metadata_version == METADATA_VERSION  # type: ignore[union-attr]
                    and record.metadata_hash == _sidecar_hash(sidecar)):  # type: ignore[union-attr]
                report.unchanged += 1
                if record.adopted:  # type: ignore[union-attr]
                    # In this newsdesk's folders too: from now on it is this one's to update or remove.
                    record.adopted, claimed = False, True  # type: ignore[union-attr]
                continue
            article = read_article(path, source, settings.max_article_bytes, sidecar)
            if article.problems:
                report.warnings[source] = list(article.problems)
            if same_text:
                reread.append(article)
                continue
        except ArticleError as error:
            report.refused[source] = str(error)
            # An article that became unreadable is no longer answerable; another newsdesk's
            # copy of one, adopted from a shared collection, is that newsdesk's to judge.
            if source in known and not known[source].adopted:
                store.delete_article(source)
                del known[source]
                report.removed.append(source)
            continue
        except OSError as error:
            report.refused[source] = f"{source}: cannot be read ({error.strerror or error})"
            continue
        pending.append((article, source in known))
    return pending, reread, claimed


def _embed(store: PassageStore, pending: list[tuple[Article, bool]], report: IndexReport,
           progress: ProgressCallback | None) -> None:
    """Embed and store the pending articles in groups, saving the manifest as often as it is
    cheap to (a run cut short then resumes where it stopped)."""
    done = 0
    group: list[tuple[Article, bool]] = []
    group_size = 0
    saved, save_cost = time.monotonic(), 0.0
    for article, is_update in pending:
        group.append((article, is_update))
        group_size += max(1, len(article.text) // 150)
        if group_size >= GROUP_PASSAGES:
            report.passages_embedded += _index_group(store, group, report)
            done += len(group)
            group, group_size = [], 0
            if time.monotonic() - saved >= save_cost / MANIFEST_SAVE_SHARE:
                before = time.monotonic()
                store.save_manifest()
                saved = time.monotonic()
                save_cost = saved - before
            if progress:
                progress(done, len(pending), article.source)
    if group:
        report.passages_embedded += _index_group(store, group, report)
        done += len(group)
        if progress:
            progress(done, len(pending), group[-1][0].source)
    if pending:
        store.save_manifest()


def _index_group(store: PassageStore, group: list[tuple[Article, bool]], report: IndexReport) -> int:
    rows: list[StoredPassage] = []
    counts: dict[str, int] = {}
    for article, _ in group:
        passages = split_passages(article)
        counts[article.source] = len(passages)
        rows.extend(_rows(article, passages))
    vectors = store.embedding_model.embed([row.text for row in rows])
    signatures, first = {}, 0
    for article, _ in group:
        if counts[article.source]:
            signatures[article.source] = signature(vectors[first : first + counts[article.source]])
        first += counts[article.source]
    records = {article.source: _record(article, counts[article.source])
               for article, _ in group if counts[article.source]}
    with store.rewriting(article.source for article, _ in group):
        store.delete_articles([article.source for article, _ in group])
        store.add_passages(rows, vectors)
        store.add_article_vectors(signatures, records)  # last: an article with a record is whole
    for article, is_update in group:
        if counts[article.source] == 0:
            report.refused[article.source] = f"{article.source}: no sentences to index"
            continue
        store.manifest.articles[article.source] = records[article.source]
        (report.updated if is_update else report.added).append(article.source)
    return len(rows)


def _update_fields(store: PassageStore, articles: list[Article], report: IndexReport) -> list[Article]:
    """Rewrite the fields of articles read again whose sentences are as stored (no embedding);
    return the others, whose passages must be embedded again."""
    stored = store.stored_spans([article.source for article in articles])
    again: list[Article] = []
    rows: list[StoredPassage] = []
    records = []
    for article in articles:
        passages = split_passages(article)
        if [(p.ordinal, p.start, p.end, p.text) for p in passages] != stored.get(article.source) or not passages:
            again.append(article)
            continue
        rows.extend(_rows(article, passages))
        records.append(_record(article, len(passages)))
        report.updated.append(article.source)
    store.update_fields(rows)
    store.update_records(records)
    for record in records:
        store.manifest.articles[record.source] = record
    return again


def _rows(article: Article, passages) -> list[StoredPassage]:
    return [
        StoredPassage(passage_id=p.passage_id, source=article.source, ordinal=p.ordinal,
                      start=p.start, end=p.end, text=p.text, title=article.title,
                      outlet=article.outlet, published=article.published, url=article.url)
        for p in passages
    ]


def _record(article: Article, passages: int) -> ArticleRecord:
    return ArticleRecord(
        source=article.source,
        path=str(article.path),
        content_hash=article.content_hash,
        title=article.title,
        outlet=article.outlet,
        published=article.published,
        size=article.path.stat().st_size,
        passages=passages,
        metadata_hash=article.metadata_hash,
        metadata_version=METADATA_VERSION,
        fields_from=dict(article.fields_from),
        url=article.url,
    )


def _sidecar_hash(sidecar: Path | None) -> str:
    return "" if sidecar is None else sidecar_hash(sidecar)


def _duplicates(records) -> dict[str, str]:
    """Each article whose file repeats an earlier one (by id order), mapped to that one."""
    first: dict[str, str] = {}
    duplicates = {}
    for record in sorted(records, key=lambda r: r.source):
        if not record.content_hash:  # adopted, content not known
            continue
        original = first.setdefault(record.content_hash, record.source)
        if original != record.source:
            duplicates[record.source] = original
    return duplicates


def _file_hash(path: Path) -> str:
    return content_hash(path.read_bytes())
