"""Report documents: Markdown as written, HTML through the templates with the text's inline
Markdown rendered and everything else escaped."""

from __future__ import annotations

import polars as pl

from analyses.document import Document


def doc() -> Document:
    d = Document("Runs & <laws>")
    d.heading("Fit of **E**")
    d.paragraph("`fitted` marks *the* runs; <b>raw</b> | kept")
    d.bullets(["one", "two *x*"])
    d.table(pl.DataFrame({"run": ["a|b", "*c*"], "are": [0.04, None], "n": [3, 4],
                          "verdict": ["Not reproduced", "Reproduced"]}),
            are=("are",), verdict="verdict")
    d.figure("figures/fit.png", "The law | its runs")
    return d


def test_markdown_is_the_text_as_written():
    assert doc().markdown() == (
        "# Runs & <laws>\n\n## Fit of **E**\n\n`fitted` marks *the* runs; <b>raw</b> | kept\n\n"
        "- one\n- two *x*\n\n| run | are | n | verdict |\n|---|---:|---:|---|\n"
        "| a\\|b | 4.0% | 3 | Not reproduced |\n| *c* |  | 4 | Reproduced |\n\n"
        "![The law \\| its runs](figures/fit.png)\n\n*The law | its runs*\n")


def test_html_renders_inline_markdown_and_escapes_the_rest():
    page = doc().html()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<title>Runs &amp; &lt;laws&gt;</title>" in page
    assert '<nav><a href="#fit-of-e">Fit of **E**</a></nav>' in page
    assert '<h2 id="fit-of-e">Fit of <strong>E</strong></h2>' in page
    assert ("<p><code>fitted</code> marks <em>the</em> runs; &lt;b&gt;raw&lt;/b&gt; | kept</p>"
            in page)
    assert "<li>two <em>x</em></li>" in page
    assert '<td><span class="verdict not-reproduced">Not reproduced</span></td>' in page
    assert "<td><em>c</em></td>" in page and '<td class="num">3</td>' in page
    assert '<td class="num" style="background:' in page and ">4.0%</td>" in page
    assert '<img src="figures/fit.png" alt="The law | its runs">' in page
