"""The `newsdesk` commands for news from the web: add, follow, feeds, refresh and unfollow.

Each indexes what it fetched before it returns; exit 0 when every URL or feed succeeded, 1 when
any failed (the others still go in). Failures are one line each on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_web_commands(commands) -> None:
    add = commands.add_parser("add", help="fetch web pages, extract their articles and index them")
    add.add_argument("urls", nargs="+", metavar="URL", help="an article's address (http or https)")
    add.set_defaults(run=_add)

    follow = commands.add_parser("follow", help="follow an RSS or Atom feed and fetch its items now")
    follow.add_argument("url", metavar="URL")
    follow.set_defaults(run=_follow)

    feeds = commands.add_parser("feeds", help="the followed feeds: items, last fetched, last error")
    feeds.add_argument("--json", action="store_true", help="print the feeds as JSON")
    feeds.set_defaults(run=_feeds)

    refresh = commands.add_parser("refresh", help="fetch what is new in every followed feed")
    refresh.add_argument("--json", action="store_true",
                         help="print only a JSON summary on stdout (progress goes to stderr)")
    refresh.set_defaults(run=_refresh)

    unfollow = commands.add_parser("unfollow", help="stop following a feed (its articles stay)")
    unfollow.add_argument("url", metavar="URL")
    unfollow.set_defaults(run=_unfollow)


def _index_run(settings):
    """Index now, saying what changed on stderr (stdout may be JSON)."""
    def run():
        from index.build import build_index

        report = build_index(settings)
        print(f"index: {report.summary()}", file=sys.stderr)
        return report

    return run


def _print_pages(pages) -> None:
    for page in pages:
        if page.outcome == "failed":
            print(f"newsdesk: {page.line()}", file=sys.stderr)
        else:
            print(page.line())


def _add(args: argparse.Namespace) -> int:
    from index.settings import load_settings
    from index.web import add_pages

    settings = load_settings()
    print(f"Fetching {len(args.urls)} page{'s' if len(args.urls) != 1 else ''} …", file=sys.stderr)
    report = add_pages(settings, args.urls, _index_run(settings))
    _print_pages(report.pages)
    return 1 if report.count("failed") else 0


def _follow(args: argparse.Namespace) -> int:
    from index.feeds import follow
    from index.settings import load_settings

    settings = load_settings()
    print(f"Fetching {args.url} …", file=sys.stderr)
    report = follow(settings, args.url, _index_run(settings))
    for error in report.feed_errors:
        print(f"newsdesk: failed: {error}", file=sys.stderr)
    if not report.feed_errors:
        _print_pages(report.pages.pages)
        summary = report.summary()
        print(f"following {args.url}: {summary['new']} new, {summary['updated']} updated, "
              f"{summary['failed']} failed")
    return 1 if report.errors else 0


def _feeds(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from index.feeds import followed
    from index.settings import load_settings

    feeds = followed(load_settings())
    if args.json:
        print(json.dumps([{**asdict(feed), "items": len(feed.items)} for feed in feeds],
                         ensure_ascii=False, indent=2))
        return 0
    if not feeds:
        print("No feeds followed: newsdesk follow URL")
    for feed in feeds:
        print(f"{feed.url}  {feed.title}".rstrip())
        print(f"    {len(feed.items)} item{'s' if len(feed.items) != 1 else ''}, last fetched "
              f"{feed.last_fetched or 'never'}"
              + (f", last error: {feed.last_error}" if feed.last_error else ""))
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from index.feeds import followed, refresh
    from index.settings import load_settings

    settings = load_settings()
    print(f"Refreshing {len(followed(settings))} feeds …", file=sys.stderr)
    report = refresh(settings, _index_run(settings))
    summary = report.summary()
    if args.json:
        for page in report.pages.pages:
            print(page.line(), file=sys.stderr)
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_pages(report.pages.pages)
        for error in report.feed_errors:
            print(f"newsdesk: failed: {error}", file=sys.stderr)
        print(f"{summary['feeds']} feeds: {summary['new']} new, {summary['updated']} updated, "
              f"{summary['failed']} failed")
    return 1 if summary["failed"] else 0


def _unfollow(args: argparse.Namespace) -> int:
    from index.feeds import unfollow
    from index.settings import load_settings

    if not unfollow(load_settings(), args.url):
        print(f"newsdesk: {args.url} is not followed (newsdesk feeds lists those that are)",
              file=sys.stderr)
        return 1
    print(f"unfollowed {args.url} (its articles stay indexed)")
    return 0
