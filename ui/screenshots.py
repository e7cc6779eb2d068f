"""Screenshots of the chat page for the README: `python -m ui.screenshots [--out docs/screenshots]`.

Serves the page over `seeds/` in evidence mode (NEWSDESK_LLM=none, a throw-away data folder) and
photographs it in headless Chromium (Playwright, from the `test` extra; Debian's `chromium`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from ui.page_process import CHROMIUM_FLAGS, PageDidNotStart, running_page

ROOT = Path(__file__).resolve().parent.parent
UPLOAD = ("Lake Varna lantern festival\n\nThe Lake Varna lantern festival drew 7,412 visitors on "
          "Sunday, organisers said.\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="newsdesk-shots-") as scratch:
        try:
            with running_page(ROOT / "seeds", Path(scratch), llm="none") as url:
                _photograph(url, args.out, args.chromium, Path(scratch))
        except PageDidNotStart as error:
            sys.exit(str(error))
    for path in sorted(args.out.glob("*.png")):
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)
    return 0


def _photograph(url: str, out: Path, chromium: str, scratch: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.goto(url)
        expect(page.locator("#nd-index-status")).to_contain_text("articles", timeout=30_000)

        answer = _ask(page, "How many countries attended the conference in Qatar?")
        answer.evaluate("""e => {  // the answer from its start, below the chat's label
            e.scrollIntoView({ block: "start" });
            let box = e.parentElement;
            while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
            if (box) box.scrollTop -= 40;
        }""")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(out / "answer.png"))

        answer.locator("a.nd-marker").nth(1).click()
        expect(page.locator("#nd-mark")).to_be_in_viewport(timeout=10_000)
        page.locator("#nd-reader").scroll_into_view_if_needed()
        page.screenshot(path=str(out / "reader.png"))

        page.locator("#nd-new-chat").click()
        expect(page.locator('[data-testid="bot"]')).to_have_count(0, timeout=10_000)
        _ask(page, "What is the capital of France?")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(out / "abstention.png"))

        page.get_by_role("tab", name="Articles").click()
        (scratch / "lantern.txt").write_text(UPLOAD, encoding="utf-8")
        page.locator("#nd-upload input[type=file]").set_input_files(scratch / "lantern.txt")
        expect(page.locator("#nd-upload-result")).to_contain_text("Added", timeout=60_000)
        page.screenshot(path=str(out / "articles.png"))
        browser.close()


def _ask(page, question: str):
    from playwright.sync_api import expect

    bots = page.locator('[data-testid="bot"]')
    count = bots.count()
    box = page.locator("#nd-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(bots).to_have_count(count + 1, timeout=30_000)
    expect(bots.last).to_contain_text("Answered", timeout=60_000)
    return bots.last


if __name__ == "__main__":
    sys.exit(main())
