"""A self-contained HTML page from the report's Markdown: figures inlined, no network, no extra packages.

The report is written once, as Markdown (:func:`genept.evaluation.report.render_markdown`), and this
module turns that Markdown into HTML, so the two files always say the same thing. Only the subset of
Markdown the report uses is understood: ``#`` headings, pipe tables, ``- `` lists, images on their own
line, fenced code blocks, inline code and paragraphs. Images are read from ``base_dir`` and embedded
as base64 ``data:`` URIs, so the page can be mailed or opened offline without its folder.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from pathlib import Path

_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)$")
_CODE = re.compile(r"`([^`]+)`")
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml", ".gif": "image/gif"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:80rem;
padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{border-bottom:2px solid #ccc;padding-bottom:.3rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f3f7}tr:nth-child(even) td{background:#fafafa}
code{background:#f3f3f3;padding:0 .2rem;border-radius:3px;font-size:.9em;overflow-wrap:anywhere}
pre{background:#f3f3f3;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
figure{display:inline-block;margin:.5rem 1rem .5rem 0;vertical-align:top}
figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.8rem;color:#555}
.missing{color:#a00;font-weight:bold}
"""


def _inline(text: str) -> str:
    """Escape HTML, then turn `code` spans into <code>."""
    parts = _CODE.split(text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def image_data_uri(path: str | Path) -> str:
    """``data:`` URI holding the file's bytes (base64), with the MIME type from its suffix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"
    >>> _ = p.write_bytes(b"\\x89PNG")
    >>> image_data_uri(p)
    'data:image/png;base64,iVBORw=='
    """
    path = Path(path)
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def markdown_to_html(markdown: str, *, base_dir: str | Path = ".", title: str = "genept report") -> str:
    """Render the report's Markdown as one HTML page with every image embedded.

    Parameters
    ----------
    markdown
        Markdown using only the subset described in the module docstring.
    base_dir
        Folder that relative image paths are read from.
    title
        The page's ``<title>``.

    Returns
    -------
    The page. An image whose file is missing is shown as a red "missing figure" note, never as a
    broken link.

    Examples
    --------
    >>> page = markdown_to_html("# Scores\\n\\n| a | b |\\n|---|---|\\n| 1 | `x` |\\n")
    >>> "<th>a</th>" in page and "<td><code>x</code></td>" in page
    True
    """
    base_dir = Path(base_dir)
    body: list[str] = []
    lines = markdown.splitlines()
    i = 0
    para: list[str] = []

    def flush() -> None:
        if para:
            body.append("<p>" + " ".join(_inline(p) for p in para) + "</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
            continue
        if stripped.startswith("```"):
            flush()
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            body.append("<pre>" + html.escape("\n".join(block)) + "</pre>")
            i += 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if heading:
            flush()
            level = len(heading.group(1))
            body.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            i += 1
            continue
        if stripped.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i])
                i += 1
            body.append(_table(rows))
            continue
        if stripped.startswith("- "):
            flush()
            items = []
            while i < len(lines) and lines[i].strip().startswith("- "):
                items.append(lines[i].strip()[2:])
                i += 1
            body.append("<ul>" + "".join(f"<li>{_inline(t)}</li>" for t in items) + "</ul>")
            continue
        image = _IMAGE.match(stripped)
        if image:
            flush()
            figures = []
            while i < len(lines) and _IMAGE.match(lines[i].strip()):
                m = _IMAGE.match(lines[i].strip())
                assert m is not None
                figures.append(_figure(m.group("alt"), m.group("src"), base_dir))
                i += 1
            body.append('<div class="figures">' + "".join(figures) + "</div>")
            continue
        para.append(stripped)
        i += 1
    flush()
    return _page(title, body)


def _table(rows: Iterable[str]) -> str:
    rows = list(rows)
    header = _cells(rows[0])
    body = [r for r in rows[1:] if not re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", r.strip())]
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in header) + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _cells(r)) + "</tr>" for r in body]
    out.append("</tbody></table>")
    return "".join(out)


def _figure(alt: str, src: str, base_dir: Path) -> str:
    path = base_dir / src
    if src.startswith("data:"):
        uri = src
    elif path.is_file():
        uri = image_data_uri(path)
    else:
        return f'<p class="missing">missing figure: {html.escape(src)} ({html.escape(alt)})</p>'
    alt_e = html.escape(alt, quote=True)
    return f'<figure><img src="{uri}" alt="{alt_e}" data-file="{html.escape(src, quote=True)}"><figcaption>{alt_e}</figcaption></figure>'


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


__all__ = ["image_data_uri", "markdown_to_html"]
