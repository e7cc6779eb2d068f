"""Shared fixtures: every test gets its own articles folder and data folder under tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.settings import Settings, load_settings

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_A = "000_dd25af603f5d5d28.txt"
SEED_B = "001_05bcaf92a568a173.txt"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    # A developer's own `.env` or NEWSDESK_* variables must not change what the tests see.
    monkeypatch.chdir(tmp_path)
    import os

    for name in list(os.environ):
        if name.startswith("NEWSDESK_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def articles_dir(tmp_path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for seed in (SEED_A, SEED_B):
        shutil.copy(SEEDS / seed, folder / seed)
    return folder


@pytest.fixture
def make_settings(tmp_path, articles_dir):
    def make(**overrides) -> Settings:
        values = {
            "articles_dir": articles_dir,
            "data_dir": tmp_path / "data",
            "model_dir": tmp_path / "models",
            "llm": "none",
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()
