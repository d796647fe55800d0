"""A small report document written once and rendered as Markdown and as self-contained HTML.

A :class:`Document` is a list of blocks (headings, paragraphs, bullet lists, tables, figures).
Tables take polars frames; columns named in ``are`` hold fractions (0.04 is 4%) shown in percent
and, in HTML, shaded on the report's colour scale; an ``are`` column of structs
``{are, low, high, status}`` shows each value with its interval (:func:`percent_interval`).
Text is Markdown: the Markdown file carries it as written, and the HTML renders it inline with
markdown-it (CommonMark; raw HTML is shown as text). Figures are referenced by a path relative
to the report, so the Markdown and the HTML share one folder of PNGs. The page layouts are the
Jinja2 templates in ``analyses/templates/`` (``document.md.j2``, ``document.html.j2`` and its
``document.css``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

VMAX = 0.35  # colour scale of ARE: 0-35%, as the paper's figures


@dataclass
class Table:
    """A table block: the frame, its ARE columns, and its verdict column (if any)."""

    frame: pl.DataFrame
    are: tuple[str, ...] = ()
    verdict: str | None = None


@dataclass
class Document:
    """Blocks of a report, rendered by :meth:`markdown` and :meth:`html`."""

    title: str
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        """A heading; level-2 headings are the sections listed at the top of the HTML."""
        self.blocks.append((f"h{level}", text))

    def paragraph(self, text: str, *, note: bool = False) -> None:
        """A paragraph; a ``note`` is set smaller (italic in Markdown)."""
        self.blocks.append(("note" if note else "p", text))

    def bullets(self, items: list[str]) -> None:
        """A bullet list (nothing when ``items`` is empty)."""
        if items:
            self.blocks.append(("ul", list(items)))

    def table(
        self, frame: pl.DataFrame, *, are: tuple[str, ...] = (), verdict: str | None = None
    ) -> None:
        """A table; ``are`` columns are fractions shown in % and shaded in HTML (struct
        columns ``{are, low, high, status}`` with their interval); the ``verdict`` column is
        shown as a coloured badge in HTML."""
        self.blocks.append(("table", Table(frame, tuple(are), verdict)))

    def figure(self, path: str, caption: str) -> None:
        """An image at ``path`` (relative to the report) with its caption."""
        self.blocks.append(("figure", (path, caption)))

    def markdown(self) -> str:
        """The document as GitHub-flavoured Markdown."""
        page = _templates().get_template("document.md.j2").render(
            title=self.title, blocks=self._views())
        return page.rstrip() + "\n"

    def html(self) -> str:
        """The document as one HTML page with its style inline (images stay files)."""
        sections = [(_anchor(b), b) for k, b in self.blocks if k == "h2"]
        return _templates().get_template("document.html.j2").render(
            title=self.title, sections=sections, blocks=self._views())

    def _views(self) -> list[tuple[str, object]]:
        """The blocks, each table as the cells the templates print."""
        return [(kind, _table_view(body) if kind == "table" else body)
                for kind, body in self.blocks]

    def write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        """Write ``<stem>.md`` and ``<stem>.html`` into ``folder``."""
        md, page = folder / f"{stem}.md", folder / f"{stem}.html"
        md.write_text(self.markdown())
        page.write_text(self.html())
        return md, page


def save_figure(fig, path: Path, *, dpi: int, tight: bool = False) -> Path:
    """Write a matplotlib figure as a PNG (creating its folder) and close it.

    ``tight`` crops to the drawn content (``bbox_inches="tight"``); the PNG carries no software
    version, so the same figure gives the same bytes on every machine.
    """
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight" if tight else None,
                metadata={"Software": None})
    plt.close(fig)
    return path


def percent(v: float | None, digits: int = 1) -> str:
    """A fraction as a percentage ('' for null, '>999%' beyond)."""
    if v is None or v != v:
        return ""
    if abs(v) >= 10:
        return ">999%" if v > 0 else "<-999%"
    return f"{100 * v:.{digits}f}%"


def percent_or_na(v: float | None) -> str:
    """:func:`percent` in a sentence: ``n/a`` for null or NaN."""
    return percent(None if v is None else float(v)) or "n/a"


def percent_interval(value: float | None, low: float | None, high: float | None,
                     status: str | None = None) -> str:
    """A fraction in percent with its interval, the bounds without the unit; without bounds,
    the value and ``status`` (why there are none) in brackets.

    Examples
    --------
    >>> percent_interval(0.104, 0.061, 0.158)
    '10.4% [6.1, 15.8]'
    >>> percent_interval(0.02, None, None, "too few families")
    '2.0% (too few families)'
    """
    if value is None or value != value:
        return ""
    if low is None or high is None or low != low or high != high:
        return f"{percent(value)} ({status})" if status else percent(value)
    return f"{percent(value)} [{percent(low)[:-1]}, {percent(high)[:-1]}]"


def _cell(v: object, is_are: bool) -> str:
    if is_are and isinstance(v, dict):
        return percent_interval(v["are"], v["low"], v["high"], v["status"])
    if is_are:
        return percent(v)  # type: ignore[arg-type]
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}" if v == v else ""
    return str(v)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class _Cell:
    """A table cell as printed: its text and its kind (``are``, ``verdict``, ``num`` or
    ``text``, inline Markdown in HTML), with the background of an ARE cell."""

    text: str
    kind: str
    style: str = ""


@dataclass(frozen=True)
class _TableView:
    columns: list[str]
    numeric: list[bool]  # right-aligned in Markdown: numbers and ARE columns
    rows: list[list[_Cell]]


def _table_view(t: Table) -> _TableView:
    df = t.frame
    numeric = [df.schema[c].is_numeric() for c in df.columns]

    def cell(c: str, is_numeric: bool, v: object) -> _Cell:
        if c in t.are:
            value = v["are"] if isinstance(v, dict) else v
            return _Cell(_cell(v, True), "are", shade(value))  # type: ignore[arg-type]
        kind = "verdict" if c == t.verdict else "num" if is_numeric else "text"
        return _Cell(_cell(v, False), kind)

    rows = [[cell(c, n, v) for c, n, v in zip(df.columns, numeric, r, strict=True)]
            for r in df.iter_rows()]
    return _TableView(list(df.columns), [n or c in t.are for c, n in
                                         zip(df.columns, numeric, strict=True)], rows)


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _css_class(text: str) -> str:
    return re.sub(r"[^a-z]+", "-", text.lower()).strip("-")


@cache
def _templates() -> Environment:
    """The Jinja2 environment of the report templates; ``inline`` renders Markdown text."""
    markdown = MarkdownIt("commonmark", {"html": False})
    env = Environment(loader=PackageLoader("analyses", "templates"),
                      autoescape=select_autoescape(["html.j2"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters |= {"inline": lambda text: Markup(markdown.renderInline(text)),
                    "md_escape": _md_escape, "anchor": _anchor, "css_class": _css_class}
    return env


def shade(v: float | None) -> str:
    """Background and text colour of an ARE cell on the 0-35% scale (light is low)."""
    if v is None or v != v:
        return "background:#f6f8fa;color:#8c959f"
    from matplotlib import colormaps

    r, g, b, _ = colormaps["magma_r"](min(max(v / VMAX, 0.0), 1.0))
    text = "#fff" if 0.299 * r + 0.587 * g + 0.114 * b < 0.55 else "#1f2328"
    return f"background:#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x};color:{text}"
