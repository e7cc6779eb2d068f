"""Uploads: saved safely under the data folder, indexed with their own ids, deletable; seeds never written."""

from __future__ import annotations

import os

import pytest

from index import ArticleError, PassageStore, article_text, build_index
from index.build import UPLOADS_PREFIX, article_path
from index.uploads import UploadError, delete_upload, is_upload, save_upload
from tests.conftest import SEED_A, SEED_B

STORY = b"Lake Varna festival\n\nThe Lake Varna lantern festival drew 7,412 visitors on Sunday.\n"


def test_an_upload_is_saved_in_the_uploads_folder_and_indexed(settings, articles_dir):
    before = sorted(p.name for p in articles_dir.iterdir())
    source = save_upload(settings, "lantern.txt", STORY)
    assert source == UPLOADS_PREFIX + "lantern.txt" and is_upload(source)
    assert (settings.uploads_dir / "lantern.txt").read_bytes() == STORY
    assert sorted(p.name for p in articles_dir.iterdir()) == before  # the folder is never written

    report = build_index(settings)
    assert set(report.added) == {SEED_A, SEED_B, source}
    rows = [p for p in PassageStore(settings).all_passages() if p.source == source]
    assert any("7,412 visitors" in p.text for p in rows)
    text = article_text(source, settings)
    assert all(text[p.start : p.end] == p.text for p in rows)


@pytest.mark.parametrize("name", [
    "../escape.txt", "/etc/cron.d/x.txt", "sub/story.txt", "..\\story.txt", "C:\\fakepath\\a.txt",
    "", "   ", ".", "..", ".hidden.txt", "story.exe", "story", "bad\x00name.txt", "x" * 300 + ".txt",
])
def test_names_that_are_paths_hidden_or_not_articles_are_refused(settings, name):
    with pytest.raises(UploadError):
        save_upload(settings, name, STORY)
    assert not settings.uploads_dir.exists() or not any(settings.uploads_dir.iterdir())


def test_empty_and_oversized_uploads_are_refused_with_the_reason(make_settings):
    settings = make_settings(max_article_bytes=1000)
    with pytest.raises(UploadError, match="empty"):
        save_upload(settings, "blank.txt", b" \n\t ")
    with pytest.raises(UploadError, match="NEWSDESK_MAX_ARTICLE_BYTES"):
        save_upload(settings, "big.txt", b"word " * 400)
    assert save_upload(settings, "small.md", b"# Small\n\nA small story.\n") == UPLOADS_PREFIX + "small.md"


def test_an_upload_never_writes_through_a_symlink(settings, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not newsdesk's to change\n", encoding="utf-8")
    settings.uploads_dir.mkdir(parents=True)
    (settings.uploads_dir / "story.txt").symlink_to(outside)
    with pytest.raises(UploadError, match="link"):
        save_upload(settings, "story.txt", STORY)
    assert outside.read_text(encoding="utf-8") == "not newsdesk's to change\n"


def test_uploading_again_replaces_the_article_and_leaves_no_temporary_file(settings):
    source = save_upload(settings, "lantern.txt", STORY)
    build_index(settings)
    assert save_upload(settings, "lantern.txt", STORY.replace(b"7,412", b"8,000")) == source
    assert os.listdir(settings.uploads_dir) == ["lantern.txt"]
    report = build_index(settings)
    assert report.updated == [source]
    assert "8,000 visitors" in article_text(source, settings)


def test_deleting_an_upload_removes_it_from_the_index(settings, articles_dir):
    source = save_upload(settings, "lantern.txt", STORY)
    build_index(settings)
    delete_upload(settings, source)
    assert build_index(settings).removed == [source]
    assert source not in {p.source for p in PassageStore(settings).all_passages()}
    with pytest.raises(UploadError, match="no such uploaded article"):
        delete_upload(settings, source)


def test_the_folders_articles_cannot_be_deleted_as_uploads(settings, articles_dir):
    for source in (SEED_A, "uploads/" + SEED_A, UPLOADS_PREFIX + "../articles/" + SEED_A):
        with pytest.raises(UploadError):
            delete_upload(settings, source)
    assert (articles_dir / SEED_A).exists()


def test_an_articles_subfolder_named_uploads_does_not_collide_with_uploads(settings, articles_dir):
    (articles_dir / "uploads").mkdir()
    (articles_dir / "uploads" / "lantern.txt").write_text(
        "Folder story\n\nThe folder's own lantern story counts 12 lanterns.\n", encoding="utf-8")
    upload = save_upload(settings, "lantern.txt", STORY)
    report = build_index(settings)
    assert {"uploads/lantern.txt", upload} <= set(report.added)
    assert "12 lanterns" in article_text("uploads/lantern.txt", settings)
    assert "7,412 visitors" in article_text(upload, settings)


@pytest.mark.parametrize("source", [
    UPLOADS_PREFIX + "../manifest.json", "../articles/" + SEED_A, UPLOADS_PREFIX + "../../x.txt",
    ".hidden/" + SEED_A, "/etc/passwd",
])
def test_article_ids_never_reach_outside_their_folder(settings, articles_dir, source):
    (articles_dir / ".hidden").mkdir()
    (articles_dir / ".hidden" / SEED_A).write_text("A hidden file is not an article.\n")
    save_upload(settings, "lantern.txt", STORY)
    with pytest.raises(ArticleError):
        article_path(settings, source)
