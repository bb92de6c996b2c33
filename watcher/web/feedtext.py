"""The template filters for text taken from feeds (watcher/web/snippets.py decides how):
`|snippet_html` a stored snippet escaped with its matched words in <mark>, `|http_url` a
link only when it is http(s). Installed once on the shared templates (context.py)."""

from __future__ import annotations

from jinja2 import Environment

from watcher.web.snippets import marked_snippet, web_href


def install(environment: Environment) -> None:
    environment.filters["snippet_html"] = marked_snippet
    environment.filters["http_url"] = web_href
