"""The parts of the committed documents that list sources, generated from the registry:
the raw topic's messages in ``schemas/asyncapi.yaml`` and the table of sources in the README.

Each part sits between a begin and an end marker line; the text around them is written by
hand and kept byte for byte. ``alertpipe contracts generate`` (``make contracts``) rewrites the
parts; with ``--check`` it only says whether they are stale, which a test runs, so a source
folder added without regenerating fails the tests. Pure: texts and sources in, text out.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from schemas.errors import UsageError
from schemas.registry import SourceInfo

BEGIN = "BEGIN generated from the registry by `make contracts`"
END = "END generated"


class StaleDocument(UsageError, ValueError):
    """A document lacks the markers of a generated part."""


@dataclass(frozen=True)
class Part:
    """One generated region: the marker lines are comments of ``comment`` at ``indent``."""

    name: str
    indent: int
    comment: tuple[str, str]  # before and after the marker text

    def markers(self) -> tuple[str, str]:
        pad, (left, right) = " " * self.indent, self.comment
        return (
            f"{pad}{left}{BEGIN} ({self.name}){right}",
            f"{pad}{left}{END} ({self.name}){right}",
        )


def replace_part(text: str, part: Part, body: str) -> str:
    """``text`` with the lines between ``part``'s markers replaced by ``body``."""
    begin, end = part.markers()
    found = re.search(f"^{re.escape(begin)}\n(.*?)^{re.escape(end)}$", text, re.M | re.S)
    if found is None:
        raise StaleDocument(f"no generated part {part.name!r} (markers {begin!r} ... {end!r})")
    return text[: found.start(1)] + body + text[found.end(1) :]


def message_id(name: str) -> str:
    """The raw message of source ``name`` in the AsyncAPI document: amazon_sns -> rawAmazonSns."""
    return "raw" + "".join(word.capitalize() for word in name.split("_"))


def urls(info: SourceInfo) -> list[str]:
    found = [f"/integrations/{p}/<key>/<routing_key>" for p in info.paths]
    return found + ([info.endpoint] if info.endpoint else [])


def _schema_ref(info: SourceInfo, document_dir: Path) -> str:
    assert info.origin is not None  # every registry source was read from a file
    relative = Path(os.path.relpath(info.origin, document_dir)).as_posix()
    return relative if relative.startswith("../") else f"./{relative}"


def _raw_message(info: SourceInfo, document_dir: Path) -> dict[str, object]:
    types = info.media_types or tuple(sorted(info.content_types))
    said = [f"header `source` = {info.name}", "POSTed to " + " or ".join(urls(info))]
    if len(types) > 1:
        said.append(f"{' or '.join(types)} as the `content_type` header says")
    if info.embedded_json:
        said.append(
            f"the payload schema sees {', '.join(info.embedded_json)} decoded from its JSON text"
        )
    return {
        "name": message_id(info.name),
        "title": info.title or info.name,
        "summary": _wrapped(f"{info.summary or info.title} ({'; '.join(said)}).", 8),
        "contentType": types[0],
        "headers": {"$ref": "#/components/schemas/rawHeaders"},
        "payload": {"$ref": _schema_ref(info, document_dir)},
        "bindings": {
            "kafka": {"key": {"$ref": "#/components/schemas/rawKey"}, "bindingVersion": "0.5.0"}
        },
    }


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no type information
    """Block style, keys in the order given, texts of several lines as literal blocks."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _wrapped(text: str, indent: int) -> str:
    """A long text as lines that end within 96 columns in the document (a literal block)."""
    return text if len(text) < 60 else textwrap.fill(text, 96 - indent) + "\n"


def _dump(data: object, indent: int) -> str:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=200, allow_unicode=True)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


ASYNCAPI_CHANNEL = Part("raw channel messages", 6, ("# ", ""))
ASYNCAPI_MESSAGES = Part("raw messages", 4, ("# ", ""))


def asyncapi_text(text: str, sources: Mapping[str, SourceInfo], document: Path) -> str:
    """``schemas/asyncapi.yaml``'s text with one raw message per source, in name order."""
    ordered = [sources[name] for name in sorted(sources)]
    channel = {i.name: {"$ref": f"#/components/messages/{message_id(i.name)}"} for i in ordered}
    messages = {message_id(i.name): _raw_message(i, document.parent) for i in ordered}
    text = replace_part(text, ASYNCAPI_CHANNEL, _dump(channel, ASYNCAPI_CHANNEL.indent))
    return replace_part(text, ASYNCAPI_MESSAGES, _dump(messages, ASYNCAPI_MESSAGES.indent))


README_SOURCES = Part("sources", 0, ("<!-- ", " -->"))


def readme_text(text: str, sources: Mapping[str, SourceInfo], root: Path) -> str:
    """The README's text with its table of sources: name (linked to docs/sources/<name>.md
    when there is one), what a body is, URLs and content types."""
    rows = ["| source | what it takes | URL (POST) | content types |", "| --- | --- | --- | --- |"]
    for name, info in sorted(sources.items()):
        page = Path("docs") / "sources" / f"{name}.md"
        shown = f"[{name}]({page.as_posix()})" if (root / page).is_file() else f"`{name}`"
        where = "<br>".join(f"`{u}`" for u in urls(info))
        types = ", ".join(info.media_types or sorted(info.content_types))
        rows.append(f"| {shown} | {info.summary or info.title} | {where} | {types} |")
    return replace_part(text, README_SOURCES, "\n".join(rows) + "\n")


@dataclass(frozen=True)
class Generated:
    path: Path
    current: str
    wanted: str

    @property
    def stale(self) -> bool:
        return self.current != self.wanted


def generated_documents(root: Path, sources: Mapping[str, SourceInfo]) -> list[Generated]:
    """The committed documents under ``root`` (a checkout) as they are and as they should be."""
    found = []
    asyncapi = root / "schemas" / "asyncapi.yaml"
    text = asyncapi.read_text()
    found.append(Generated(asyncapi, text, asyncapi_text(text, sources, asyncapi)))
    readme = root / "README.md"
    text = readme.read_text()
    found.append(Generated(readme, text, readme_text(text, sources, root)))
    return found
