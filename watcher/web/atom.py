"""Atom 1.0 documents (RFC 4287) written with the standard library's XML writer, so every
value taken from a feed is escaped as text, and characters XML 1.0 cannot carry (control
characters a hostile feed may hold) are dropped rather than making the document invalid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree import ElementTree as ET

from watcher.when import as_utc

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
# What XML 1.0 allows (its Char production); anything else is removed from values.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Link:
    href: str
    rel: str = "alternate"
    type: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Category:
    term: str
    scheme: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: datetime
    summary: str = ""  # plain text (type="text"), never markup
    links: Sequence[Link] = ()
    categories: Sequence[Category] = ()
    author: str | None = None
    published: datetime | None = None


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    updated: datetime
    author: str
    links: Sequence[Link] = ()
    entries: Sequence[Entry] = field(default_factory=tuple)


def xml_text(value: str) -> str:
    """`value` without the characters XML 1.0 forbids (C0 controls but tab and newlines,
    lone surrogates, U+FFFE and U+FFFF)."""
    return _NOT_XML.sub("", value)


def rfc3339(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def document(feed: Feed) -> bytes:
    """The feed as a UTF-8 Atom document with its XML declaration."""
    root = ET.Element("feed", xmlns=ATOM)  # names below are in it: the default
    _text(root, "id", feed.id)
    _text(root, "title", feed.title, type="text")
    _text(root, "updated", rfc3339(feed.updated))
    _author(root, feed.author)
    for link in feed.links:
        _link(root, link)
    for entry in feed.entries:
        _entry(root, entry)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _entry(parent: ET.Element, entry: Entry) -> None:
    element = ET.SubElement(parent, "entry")
    _text(element, "id", entry.id)
    _text(element, "title", entry.title, type="text")
    _text(element, "updated", rfc3339(entry.updated))
    if entry.published is not None:
        _text(element, "published", rfc3339(entry.published))
    if entry.author:
        _author(element, entry.author)
    for link in entry.links:
        _link(element, link)
    for category in entry.categories:
        _empty(element, "category", term=category.term, scheme=category.scheme,
               label=category.label)
    if entry.summary:
        _text(element, "summary", entry.summary, type="text")


def _author(parent: ET.Element, name: str) -> None:
    author = ET.SubElement(parent, "author")
    _text(author, "name", name)


def _link(parent: ET.Element, link: Link) -> None:
    _empty(parent, "link", href=link.href, rel=link.rel, type=link.type, title=link.title)


def _text(parent: ET.Element, tag: str, value: str, **attributes: str) -> None:
    _empty(parent, tag, **attributes).text = xml_text(value)


def _empty(parent: ET.Element, tag: str, **attributes: str | None) -> ET.Element:
    return ET.SubElement(parent, tag,
                         {name: xml_text(value) for name, value in attributes.items()
                          if value is not None})
