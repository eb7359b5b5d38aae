"""A source's setup guide (``docs/sources/<name>.md``) as HTML, pure: the little Markdown those
pages use (headings, paragraphs, numbered and bulleted lists with continued lines, tables,
fenced code, inline code, bold, links), every text escaped first. Not a Markdown engine: what
it does not know stays text."""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

INLINE_CODE = re.compile(r"`([^`]+)`")
BOLD = re.compile(r"\*\*([^*]+)\*\*")
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
ITEM = re.compile(r"^(\d+\.|[-*]) +(.*)$")


def inline(text: str) -> str:
    """Escaped ``text`` with code, bold and links; code spans are left as they are inside."""
    spans: list[str] = []

    def keep(match: re.Match[str]) -> str:
        spans.append(f"<code>{escape(match.group(1))}</code>")
        return f"\x00{len(spans) - 1}\x00"

    out = escape(INLINE_CODE.sub(keep, text), quote=False)
    out = BOLD.sub(r"<strong>\1</strong>", out)
    out = LINK.sub(_link, out)
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], out)


def _link(match: re.Match[str]) -> str:
    """Links out (http/https) open as links; links to other docs pages stay their text."""
    text, target = match.group(1), match.group(2)
    if target.startswith(("https://", "http://")):
        return f'<a href="{escape(target)}" rel="noreferrer">{text}</a>'
    return text


def render_guide(markdown: str) -> Markup:
    html: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines)
            )
            html.append(f"<pre>{escape(chr(10).join(lines[i + 1 : end]))}</pre>")
            i = end + 1
        elif line.startswith("#"):
            level = min(6, len(line) - len(line.lstrip("#")) + 2)  # under the page's own h2
            html.append(f"<h{level}>{inline(line.lstrip('#').strip())}</h{level}>")
            i += 1
        elif line.startswith("|"):
            end = next(
                (j for j in range(i, len(lines)) if not lines[j].startswith("|")), len(lines)
            )
            html.append(_table(lines[i:end]))
            i = end
        elif ITEM.match(line):
            i = _list(lines, i, html)
        elif not line.strip():
            i += 1
        else:
            end = next((j for j in range(i, len(lines)) if _ends_paragraph(lines[j])), len(lines))
            html.append(f"<p>{inline(' '.join(s.strip() for s in lines[i:end]))}</p>")
            i = end
    return Markup("\n".join(html))  # every text went through escape()


def _ends_paragraph(line: str) -> bool:
    return not line.strip() or line.startswith(("#", "|", "```")) or bool(ITEM.match(line))


def _list(lines: list[str], i: int, html: list[str]) -> int:
    ordered = lines[i][0].isdigit()
    items: list[str] = []
    while (
        i < len(lines)
        and (found := ITEM.match(lines[i]))
        and found.group(1)[0].isdigit() == ordered
    ):
        text = [found.group(2)]
        i += 1
        while i < len(lines) and lines[i].startswith("  ") and not ITEM.match(lines[i].strip()):
            text.append(lines[i].strip())
            i += 1
        items.append(f"<li>{inline(' '.join(text))}</li>")
    tag = "ol" if ordered else "ul"
    html.append(f"<{tag}>{''.join(items)}</{tag}>")
    return i


def _table(rows: list[str]) -> str:
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    body = [r for r in cells[1:] if not all(set(c) <= set("-: ") for c in r)]
    head = "".join(f'<th scope="col">{inline(c)}</th>' for c in cells[0])
    rows_html = "".join(
        "<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>"
    return f'<div class="scroll">{table}</div>'
