"""A small news site served on 127.0.0.1 for the tests of news from the web: an RSS feed, an Atom
feed, article pages with their furniture (navigation, cookie notice, subscription box, footer),
the same story at a second address, a section front, a 404, a page that never answers and one
that trickles. Nothing leaves the machine."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OUTLET = "Harbour Times"
FURNITURE = ("Accept all cookies", "Subscribe to read unlimited articles", "Home | World | Business",
             "All rights reserved by Harbour Media", "Sign in to your account")


def article_page(title: str, paragraphs: list[str], published: str | None = "2025-12-09",
                 outlet: str | None = OUTLET) -> str:
    meta = f'<meta property="og:site_name" content="{outlet}">' if outlet else ""
    if published:
        meta += f'<meta property="article:published_time" content="{published}T08:00:00Z">'
    title_tag = f"<title>{title}</title><meta property=\"og:title\" content=\"{title}\">" if title else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">{title_tag}{meta}</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world/">World</a></li>
<li><a href="/business/">Business</a></li></ul><p>Home | World | Business</p></nav>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience.</p>
<button>Accept all cookies</button></div>
<header><a href="/login">Sign in to your account</a></header>
<main><article>{f"<h1>{title}</h1>" if title else ""}{body}</article></main>
<aside class="subscribe-box"><p>Subscribe to read unlimited articles for just 1 euro a week.</p></aside>
<footer><p>All rights reserved by Harbour Media. <a href="/privacy">Privacy</a></p></footer>
</body></html>"""


HARBOUR = [
    "The port of Vellan reopened to cargo ships on Tuesday after a closure of 19 days, the harbour "
    "authority said.",
    "Dredgers removed about 40,000 tonnes of silt that storms had pushed into the main channel.",
    "The first vessel to enter was the container ship Morning Tern, which had waited at anchor "
    "since the start of the month.",
    "Harbour master Ilse Brandt said pilots would guide every ship through the channel for another week.",
]
FERRY = [
    "Ferry crews on the Vellan islands route walked out on Monday in a dispute over rosters.",
    "The operator said 12 crossings were cancelled and advised travellers to book the evening boats.",
    "Union officials said the strike would last two days unless talks resumed before Wednesday.",
    "Islanders who commute to the mainland said they had been given no notice of the stoppage.",
]
BRIDGE = [
    "The city council of Vellan voted 23 to 8 on Thursday to build a second bridge over the river Aal.",
    "The bridge will carry a tram line and two cycle lanes, and is expected to cost 310 million euros.",
    "Opponents said the money should go to repairing the old bridge, which dates from 1921.",
    "Construction is due to start in the spring of 2027 and to last about four years.",
]


def rss(base: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{OUTLET}</title><link>{base}/</link>
<description>News from Vellan</description>
<item><title>Port of Vellan reopens after 19 days</title><link>{base}/news/harbour-reopens.html</link>
<pubDate>Tue, 09 Dec 2025 08:00:00 GMT</pubDate><guid>{base}/news/harbour-reopens.html</guid></item>
<item><title>Ferry crews walk out over rosters</title><link>{base}/news/ferry-strike.html?utm_source=rss</link>
<pubDate>Mon, 08 Dec 2025 17:30:00 GMT</pubDate><guid>ferry-strike</guid></item>
</channel></rss>"""


def atom(base: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Vellan City Hall News</title>
<id>{base}/atom.xml</id><updated>2025-12-11T10:00:00Z</updated>
<entry><title>Council votes for a second bridge over the Aal</title>
<link rel="alternate" href="{base}/city/bridge-vote.html"/><id>urn:bridge-vote</id>
<published>2025-12-11T10:00:00Z</published><updated>2025-12-11T10:00:00Z</updated></entry>
</feed>"""


class NewsSite:
    """The site's pages, which a test may change while it runs (`pages[path] = (type, body)`)."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []  # (path, User-Agent)
        self.stop = threading.Event()
        self.base = ""

    def set_page(self, path: str, body: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.pages[path] = (content_type, body.encode("utf-8"))

    def fill(self) -> None:
        self.set_page("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
        self.set_page("/rss.xml", rss(self.base), "application/rss+xml")
        self.set_page("/atom.xml", atom(self.base), "application/atom+xml")
        self.set_page("/news/harbour-reopens.html", article_page("Port of Vellan reopens after 19 days", HARBOUR))
        # The same story at a second address (a syndicated copy with its own furniture).
        self.set_page("/amp/harbour-reopens", article_page("Port of Vellan reopens after 19 days", HARBOUR))
        # No date and no title in the page: the feed entry gives them.
        self.set_page("/news/ferry-strike.html", article_page("", FERRY, published=None))
        self.set_page("/city/bridge-vote.html", article_page("Council votes for a second bridge", BRIDGE,
                                                             outlet="Vellan City Hall"))
        self.set_page("/private/memo.html", article_page("Internal memo", HARBOUR))
        self.set_page("/section/", "<html><head><title>World</title></head><body><nav><a href='/a'>A"
                      "</a> <a href='/b'>B</a></nav><ul><li><a href='/news/1'>Storm</a></li>"
                      "<li><a href='/news/2'>Vote</a></li></ul></body></html>")
        self.set_page("/not-a-feed.xml", "this is not XML at all, just words", "application/rss+xml")
        self.set_page("/moved", "", "text/html")


@contextmanager
def serve_news_site() -> Iterator[NewsSite]:
    site = NewsSite()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            site.requests.append((self.path, self.headers.get("User-Agent", "")))
            if self.path.startswith("/never"):  # accepts the request, never answers
                site.stop.wait(300)
                return
            if self.path.startswith("/trickle"):  # headers, then a byte a second, for ever
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                while not site.stop.wait(0.5):
                    try:
                        self.wfile.write(b"<")
                        self.wfile.flush()
                    except OSError:
                        return
                return
            if self.path == "/moved":
                self.send_response(301)
                self.send_header("Location", "/news/harbour-reopens.html")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            found = site.pages.get(self.path)
            if found is None:
                body = b"<html><body><h1>Not found</h1></body></html>"
                self.send_response(404)
                self.send_header("Content-Type", "text/html")
            else:
                content_type, body = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    site.fill()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.stop.set()
        time.sleep(0.05)
        server.shutdown()
        server.server_close()
