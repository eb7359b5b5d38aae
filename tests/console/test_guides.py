"""Setup guides (docs/sources/*.md) as HTML: the Markdown those pages use, everything escaped;
where the Integrations page reads them from."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertpipe.console.guides import render_guide
from alertpipe.console.pages.integrations import guide_of
from alertpipe.console.settings import TOKEN_ENV, load_console_settings
from kafkaio.env import SettingsError
from tests.console.pages import TOKEN

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sources"


def test_lists_tables_code_and_links() -> None:
    html = str(render_guide(
        "# Title\n\nText with `a<b>` and **bold**.\n\n1. First, `x`\n   continued\n2. Second\n\n"
        "- one\n- two [site](https://example.com) [page](other.md)\n\n"
        "| a | b |\n|---|---|\n| `c` | d |\n\n```\n<raw>\n```\n"
    ))  # fmt: skip
    assert "<h3>Title</h3>" in html
    assert "<p>Text with <code>a&lt;b&gt;</code> and <strong>bold</strong>.</p>" in html
    assert "<ol><li>First, <code>x</code> continued</li><li>Second</li></ol>" in html
    assert '<a href="https://example.com" rel="noreferrer">site</a> page</li></ul>' in html
    assert "<td><code>c</code></td><td>d</td>" in html
    assert "<pre>&lt;raw&gt;</pre>" in html


def test_nothing_in_a_guide_becomes_markup_of_its_own() -> None:
    html = str(render_guide('<script>alert(1)</script>\n\n- <img src=x onerror="y">\n'))
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_every_shipped_guide_renders_its_steps() -> None:
    for page in sorted(DOCS.glob("*.md")):
        html = str(render_guide(page.read_text()))
        assert html.startswith("<h3>"), page.name
        assert "<ol>" in html or "<ul>" in html, page.name  # the setup steps


def test_the_page_reads_guides_from_the_configured_directory(tmp_path: Path) -> None:
    (tmp_path / "generic.md").write_text("# Generic here\n\n1. One step\n")
    env = {TOKEN_ENV: TOKEN, "ALERTPIPE_CONSOLE_GUIDES_DIR": str(tmp_path)}
    settings = load_console_settings(env)
    assert settings.guides_dir == tmp_path
    assert "<h3>Generic here</h3>" in str(guide_of(settings.guides_dir, "generic"))
    assert guide_of(settings.guides_dir, "thousandeyes") is None  # none there: none shown
    assert guide_of(None, "generic") is None


def test_unset_the_checkout_guides_are_read_and_a_missing_directory_is_refused(
    tmp_path: Path,
) -> None:
    assert load_console_settings({TOKEN_ENV: TOKEN}).guides_dir == DOCS
    missing = {TOKEN_ENV: TOKEN, "ALERTPIPE_CONSOLE_GUIDES_DIR": str(tmp_path / "nowhere")}
    with pytest.raises(SettingsError, match=r"ALERTPIPE_CONSOLE_GUIDES_DIR=.* is not a directory"):
        load_console_settings(missing)
