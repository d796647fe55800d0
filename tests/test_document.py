"""Report documents: Markdown as written, HTML through the templates with the text's inline
Markdown rendered and everything else escaped."""

from __future__ import annotations

import polars as pl

from analyses.document import Document, shade


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


def test_an_are_column_of_structs_prints_each_value_with_its_interval():
    d = Document("Intervals")
    d.table(pl.DataFrame({"k": [2, 3, 4], "are": [
        {"are": 0.104, "low": 0.061, "high": 0.158, "status": "ok"},
        {"are": 0.02, "low": None, "high": None, "status": "too few families"},
        None]}), are=("are",))
    md = d.markdown()
    assert "| 2 | 10.4% [6.1, 15.8] |" in md
    assert "| 3 | 2.0% (too few families) |" in md and "| 4 |  |" in md
    page = d.html()  # shaded by the value, as a plain ARE cell
    assert f'style="{shade(0.104)}">10.4% [6.1, 15.8]</td>' in page
    assert f'style="{shade(0.02)}">2.0% (too few families)</td>' in page
