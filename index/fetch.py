"""Fetching web pages and feeds politely: robots.txt, one request at a time per host, a deadline.

A whole-request deadline (NEWSDESK_FETCH_TIMEOUT) covers robots.txt, redirects and the body, so a
server that sends nothing or trickles bytes cannot stretch it; every failure is one `FetchError`.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from index.articles import ArticleError
from index.settings import Settings

try:
    _VERSION = version("newsdesk")
except PackageNotFoundError:  # run from a source tree that was never installed
    _VERSION = "0"
# Names newsdesk to the sites it reads (robots.txt rules for "newsdesk" apply to it).
ROBOTS_NAME = "newsdesk"
USER_AGENT = f"newsdesk/{_VERSION} (news question answering; fetches pages a reader asked for)"
MAX_REDIRECTS = 5
# robots.txt files are small; RFC 9309 asks crawlers to read at least 500 KiB of one.
MAX_ROBOTS_BYTES = 512_000
# Pages of several hosts are fetched at once; those of one host one after another.
MAX_PARALLEL = 6
PAGE_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
              "application/xml", "text/xml", "application/x-rss+xml")
# Query parameters that only say where a reader came from: the same page without them.
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid)$", re.IGNORECASE)

Accept = Literal["page", "feed", "any"]


class FetchError(ArticleError):
    """A URL that could not be fetched; the message is one line for the user, naming the URL."""


@dataclass(frozen=True)
class Fetched:
    """One answered request: the body of `url` (where `requested` led, after redirects)."""

    requested: str
    url: str
    content_type: str  # lower case, without parameters; "" when the server gave none
    body: bytes
    charset: str | None = None

    @property
    def looks_like_feed(self) -> bool:
        if self.content_type in FEED_TYPES or (
                self.content_type.endswith("+xml") and self.content_type not in PAGE_TYPES):
            return True
        head = self.body[:512].lstrip().lower()
        return self.content_type in ("", "text/plain") and head.startswith((b"<?xml", b"<rss", b"<feed"))


def normalize_url(url: str) -> str:
    """`url` as newsdesk stores it: http(s) only, host in lower case, no default port, no
    fragment, no tracking parameters. Raises FetchError for anything else."""
    text = (url or "").strip()
    shown = text[:200] or "(empty)"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise FetchError(f"{shown}: not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"{shown}: only http and https addresses can be fetched")
    if not parts.hostname or any(char.isspace() or ord(char) < 32 for char in text):
        raise FetchError(f"{shown}: not a valid URL")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if port and port != (443 if scheme == "https" else 80):
        host += f":{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)])
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def fetch_all(settings: Settings, urls: list[str], accept: Accept) -> list[Fetched | FetchError]:
    """Fetch each URL (same order in the result); a failure is a FetchError in its place."""
    if not urls:
        return []
    return asyncio.run(_Session(settings).fetch_all(urls, accept))


class _Session:
    """One batch of requests: a client, a lock per host, robots.txt read once per host."""

    def __init__(self, settings: Settings):
        self.timeout = settings.fetch_timeout
        self.max_bytes = settings.max_article_bytes
        self.robots: dict[str, RobotFileParser | FetchError] = {}

    async def fetch_all(self, urls: list[str], accept: Accept) -> list[Fetched | FetchError]:
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.parallel = asyncio.Semaphore(MAX_PARALLEL)
        # The deadline is enforced here, around each request: httpx's own timeouts only bound
        # each read, which a trickling server resets forever.
        timeout = httpx.Timeout(self.timeout)
        async with httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, timeout=timeout,
                                     follow_redirects=False) as client:
            self.client = client
            return list(await asyncio.gather(*(self._one(url, accept) for url in urls)))

    async def _one(self, url: str, accept: Accept) -> Fetched | FetchError:
        try:
            requested = normalize_url(url)
        except FetchError as error:
            return error
        async with self.parallel, AsyncExitStack() as held:
            hosts: set[str] = set()
            current = requested
            try:
                await self._hold(held, hosts, current)  # one request at a time per host
                async with asyncio.timeout(self.timeout):
                    for _ in range(MAX_REDIRECTS + 1):
                        await self._hold(held, hosts, current)
                        await self._check_robots(current)
                        answer = await self._get(current, accept)
                        if isinstance(answer, Fetched):
                            return Fetched(requested, current, answer.content_type, answer.body,
                                           answer.charset)
                        current = normalize_url(urljoin(current, answer))
                    return FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
            except FetchError as error:
                return error if str(error).startswith(url) else FetchError(f"{url}: {error}")
            except TimeoutError:
                return FetchError(f"{url}: no complete answer within {self.timeout:g} s "
                                  "(NEWSDESK_FETCH_TIMEOUT)")
            except httpx.HTTPError as error:
                return FetchError(f"{url}: {_describe(error)}")

    async def _hold(self, held: AsyncExitStack, hosts: set[str], url: str) -> None:
        host = urlsplit(url).netloc
        if host not in hosts:  # a redirect to a host already held must not wait for itself
            await held.enter_async_context(self.locks[host])
            hosts.add(host)

    async def _get(self, url: str, accept: Accept) -> Fetched | str:
        """The page, or where a redirect points."""
        async with self.client.stream("GET", url) as response:
            if response.is_redirect:
                location = response.headers.get("location", "").strip()
                if not location:
                    raise FetchError(f"{url}: a redirect ({response.status_code}) to nowhere")
                return location
            if response.status_code >= 400:
                raise FetchError(f"{url}: the server answered {response.status_code} "
                                 f"{response.reason_phrase or ''}".rstrip())
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            wanted = {"page": PAGE_TYPES, "feed": FEED_TYPES, "any": PAGE_TYPES + FEED_TYPES}[accept]
            if content_type and content_type not in wanted and not (
                    accept != "page" and (content_type.endswith("+xml") or content_type == "text/plain")):
                kind = {"page": "a web page", "feed": "an RSS or Atom feed",
                        "any": "a web page or a feed"}[accept]
                raise FetchError(f"{url}: is {content_type}, not {kind}")
            body = await self._body(response, url, self.max_bytes)
            return Fetched(url, url, content_type, body, response.charset_encoding)

    async def _body(self, response: httpx.Response, url: str, limit: int) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url}: {int(declared) / 1e6:.1f} MB is over the {limit / 1e6:.1f} MB "
                             "limit (NEWSDESK_MAX_ARTICLE_BYTES)")
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():  # decompressed: the limit holds for gzip too
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{url}: more than the {limit / 1e6:.1f} MB limit "
                                 "(NEWSDESK_MAX_ARTICLE_BYTES)")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        if site not in self.robots:
            self.robots[site] = await self._read_robots(site)
        rules = self.robots[site]
        if isinstance(rules, FetchError):
            raise FetchError(str(rules))
        if not rules.can_fetch(ROBOTS_NAME, url):
            raise FetchError(f"{url}: the site's robots.txt does not allow newsdesk to fetch it")

    async def _read_robots(self, site: str) -> RobotFileParser | FetchError:
        rules = RobotFileParser()
        async with self.client.stream("GET", site + "/robots.txt", follow_redirects=True) as response:
            if response.status_code >= 500:  # RFC 9309: an unreachable robots.txt disallows all
                return FetchError(f"{site}/robots.txt answered {response.status_code}: try later")
            if response.status_code >= 400:  # none: everything is allowed
                rules.allow_all = True
                return rules
            body = await self._body(response, site + "/robots.txt", MAX_ROBOTS_BYTES)
        rules.parse(body.decode("utf-8", errors="replace").splitlines())
        return rules


def _describe(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect ({error or 'connection refused'})"
    if isinstance(error, httpx.TimeoutException):
        return "the server did not answer in time"
    if isinstance(error, httpx.TooManyRedirects):
        return "too many redirects"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
