"""A small reading of an HTML page for assertions (stdlib parser; the browser tests use Chromium)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Page:
    elements: list[Element] = field(default_factory=list)
    inline_script: list[str] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements of ``tag`` whose attributes include ``attrs`` (``data_x`` means ``data-x``)."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            e
            for e in self.elements
            if (tag is None or e.tag == tag) and all(e.attrs.get(k) == v or (v == "*" and k in e.attrs) for k, v in want.items())
        ]

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, found)
        return found[0]


# Text on either side of these runs on without a space, as a browser shows it ("<bdi>X</bdi>, Y").
_INLINE = {"a", "abbr", "b", "bdi", "bdo", "code", "em", "i", "small", "span", "strong"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.open: list[Element] = []
        self.chunks: list[str] = []
        self.glued = False  # the next text continues the last one (only inline tags between)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.glued = tag in _INLINE
        element = Element(tag, {k: v if v is not None else "" for k, v in attrs})
        self.page.elements.append(element)
        if tag not in _VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        self.glued = tag in _INLINE
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i].tag == tag:
                del self.open[i:]
                break

    def handle_data(self, data: str) -> None:
        gap = "" if self.glued and self.chunks else " "
        self.chunks.append(gap + data)
        self.glued = True  # text, then text: one run (the parser splits at character references)
        for e in self.open:
            e.text += (gap if e.text else "") + data
        if self.open and self.open[-1].tag == "script" and data.strip():
            self.page.inline_script.append(data)


def read(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reader.page.text = " ".join("".join(reader.chunks).split())
    for e in reader.page.elements:
        e.text = " ".join(e.text.split())
    return reader.page
