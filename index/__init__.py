"""index/: articles and the store. Reads articles, splits them into sentence passages with exact
offsets, embeds them with the packaged model and keeps Chroma and a BM25 index up to date."""

from index.articles import Article, ArticleError
from index.build import IndexReport, article_files, article_text, build_index
from index.settings import Settings, SettingsError, load_settings
from index.store import PassageStore, StoredPassage, StoreError

__all__ = [
    "Article",
    "ArticleError",
    "IndexReport",
    "PassageStore",
    "Settings",
    "SettingsError",
    "StoreError",
    "StoredPassage",
    "article_files",
    "article_text",
    "build_index",
    "load_settings",
]
