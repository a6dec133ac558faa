"""The report's Markdown as one self-contained HTML page: :func:`to_html`.

A converter for the subset of Markdown the report is written in, no more: ATX headings (with
GitHub-style ``id`` anchors, :func:`anchor`), pipe tables as :func:`signlib.evaluate.tables.to_markdown`
writes them (alignment rows, ``\\|`` escapes, numeric columns right-aligned), bullet lists nested by
indentation, paragraphs, and inline code, ``**bold**``, links and images. Images are embedded as
base64 data URIs (downscaled first when above a size limit), and the CSS is inline, so the page
makes no request of its own; links (to videos, CSV files) stay relative to the report's folder.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from urllib.parse import unquote

HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
ALIGN_ROW = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
LIST_ITEM = re.compile(r"^(\s*)[-*]\s+(.*)$")
NUMBER = re.compile(r"^[-+−]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?\s*%?(\s*±\s*\d[\d,]*\.?\d*)?$"
                    r"|^(nan|inf|-inf|–)$")
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml"}
CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5em 2em 4em; }
h1, h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; } h2 { margin-top: 2.2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 13px; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: .25em .6em; vertical-align: top; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.center, th.center { text-align: center; } td.left, th.left { text-align: left; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
code { background: #f3f3f3; padding: 0 .25em; border-radius: 3px; font-size: 90%; }
a { color: #0a58ca; }
"""


def anchor(text: str) -> str:
    """The ``id`` GitHub gives a heading: lower case, punctuation dropped, spaces → ``-``
    (``"2. fast: segmenters"`` → ``"2-fast-segmenters"``)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "").replace("**", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def split_row(line: str) -> list[str]:
    """The cells of a pipe-table row; ``\\|`` is a pipe inside a cell."""
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def is_number(cell: str) -> bool:
    return bool(NUMBER.match(cell.strip()))


def _alignments(align_row: str, body: list[list[str]], width: int) -> list[str]:
    """``num``/``center``/``left`` per column: the alignment row's colons when it has any, else
    ``num`` (right) for columns whose every non-empty cell is a number, as LaTeX tables align them."""
    out = []
    for k, spec in enumerate((split_row(align_row) + [""] * width)[:width]):
        if spec.startswith(":") and spec.endswith(":"):
            out.append("center")
        elif spec.endswith(":"):
            out.append("num")
        elif spec.startswith(":"):
            out.append("left")
        else:
            cells = [r[k] for r in body if k < len(r) and r[k].strip()]
            out.append("num" if cells and all(is_number(c) for c in cells) else "")
    return out


class Converter:
    """Markdown → HTML body for one report; ``base`` is the folder relative links start from."""

    def __init__(self, base: Path, embed: bool = True, max_kb: int = 0):
        self.base, self.embed, self.max_kb = Path(base), embed, max_kb
        self.ids: dict[str, int] = {}

    def image(self, alt: str, src: str) -> str:
        path = self.base / unquote(src)
        if re.match(r"^[a-z]+://", src) or not path.is_file():  # never a remote request; say what is missing
            return f'<em>[figure {html.escape(alt)} missing: {html.escape(src)}]</em>'
        if not self.embed:
            return f'<img alt="{html.escape(alt)}" src="{html.escape(src)}">'
        data, shrunk = path.read_bytes(), False
        if self.max_kb and len(data) > 1024 * self.max_kb and path.suffix.lower() == ".png":
            data, shrunk = shrink_png(data, 1024 * self.max_kb), True
        uri = f"data:{MIME.get(path.suffix.lower(), 'application/octet-stream')};base64,"
        img = f'<img alt="{html.escape(alt)}" src="{uri}{base64.b64encode(data).decode("ascii")}">'
        # a downscaled figure links to its full-size file (a link is followed only when clicked)
        return f'<a href="{html.escape(src)}">{img}</a>' if shrunk else img

    def _image_match(self, m: re.Match) -> str:  # the text was HTML-escaped: alt and path back to plain text
        return self.image(html.unescape(m[1]), html.unescape(m[2]))

    @staticmethod
    def _link_match(m: re.Match) -> str:
        return f'<a href="{m[2].replace(chr(34), "&quot;")}">{m[1]}</a>'

    def inline(self, text: str) -> str:
        out = []
        for k, part in enumerate(re.split(r"(`[^`]*`)", text)):
            if k % 2:
                out.append(f"<code>{html.escape(part[1:-1])}</code>")
                continue
            part = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|])", r"\1", html.escape(part, quote=False))
            part = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", self._image_match, part)
            part = re.sub(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)", self._link_match, part)
            out.append(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", part))
        return "".join(out)

    def heading(self, level: int, text: str) -> str:
        key = anchor(text)
        seen = self.ids.get(key, 0)
        self.ids[key] = seen + 1
        ident = key if not seen else f"{key}-{seen}"  # GitHub's rule for repeated headings
        return f'<h{level} id="{ident}">{self.inline(text)}</h{level}>'

    def table(self, lines: list[str]) -> str:
        header = split_row(lines[0])
        width = len(header)
        body = []
        for line in lines[2:]:
            cells = split_row(line)
            if len(cells) > width:  # an unescaped pipe inside a cell: keep its text in the last column
                cells = cells[:width - 1] + [" | ".join(cells[width - 1:])]
            body.append(cells + [""] * (width - len(cells)))
        align = _alignments(lines[1], body, width)
        return ("<table><thead>" + self.row(header, "th", align) + "</thead><tbody>"
                + "".join(self.row(r, "td", align) for r in body) + "</tbody></table>")

    def row(self, cells: list[str], tag: str, align: list[str]) -> str:
        return "<tr>" + "".join(self.cell(tag, c, a) for c, a in zip(cells, align)) + "</tr>"

    def cell(self, tag: str, text: str, align: str) -> str:
        css = f' class="{align}"' if align else ""
        return f"<{tag}{css}>{self.inline(text)}</{tag}>"

    def bullets(self, items: list[tuple[int, str]]) -> str:
        out, depth = [], []
        for indent, text in items:
            if not depth or indent > depth[-1]:
                out.append("<ul>")
                depth.append(indent)
            else:
                while len(depth) > 1 and indent < depth[-1]:
                    out.append("</li></ul>")
                    depth.pop()
                out.append("</li>")
            out.append(f"<li>{self.inline(text)}")
        return "".join(out) + "</li></ul>" * len(depth)

    def body(self, markdown: str) -> str:
        lines, out, para, k = markdown.splitlines(), [], [], 0

        def flush():
            if para:
                out.append(f"<p>{self.inline(' '.join(para))}</p>")
                para.clear()
        while k < len(lines):
            line = lines[k]
            head = HEADING.match(line)
            item = LIST_ITEM.match(line)
            if not line.strip():
                flush()
                k += 1
            elif head:
                flush()
                out.append(self.heading(len(head[1]), head[2]))
                k += 1
            elif line.lstrip().startswith("|") and k + 1 < len(lines) and ALIGN_ROW.match(lines[k + 1]):
                flush()
                end = k + 2
                while end < len(lines) and lines[end].lstrip().startswith("|"):
                    end += 1
                out.append(self.table(lines[k:end]))
                k = end
            elif item and not para:
                items = []
                while k < len(lines) and (m := LIST_ITEM.match(lines[k])):
                    items.append((len(m[1]), m[2]))
                    k += 1
                out.append(self.bullets(items))
            else:
                para.append(line.strip())
                k += 1
        flush()
        return "\n".join(out)


def shrink_png(data: bytes, limit: int) -> bytes:
    """``data`` (a PNG) downscaled until it is at most ``limit`` bytes (or 64 px wide)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    while len(data) > limit and image.width > 64:
        scale = max(0.25, min(0.9, (limit / len(data)) ** 0.5))
        image = image.resize((max(64, int(image.width * scale)), max(1, int(image.height * scale))),
                             Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        image.save(buf, format="PNG", optimize=True)
        data = buf.getvalue()
    return data


def to_html(markdown: str, base: Path, title: str, embed: bool = True, max_kb: int = 0) -> str:
    """The whole page: ``markdown`` converted, relative paths read from ``base``."""
    body = Converter(base, embed, max_kb).body(markdown)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}\n"
            f"</main>\n</body>\n</html>\n")
