"""Hypothesis strategies that mutate a set of files, for the reader fuzz test (``test_fuzz.py``).

A file set is ``{relative path: bytes}``; :func:`mutated` applies one or two edits to it. Generic
edits work on any file: truncate, flip bits, splice bytes in or out, delete the file, renumber a
frame file or move it into a hidden folder. Format-aware edits keep the container intact so that a
reader gets past its parser to its own checks: zip members and their ``.npy`` headers, XML
elements and attributes, CSV columns and cells, JSON / YAML / pickled nodes, binary count fields
(``.pose``), text lines and tokens. Values are drawn from pools of edge cases (negative, huge,
non-numeric, NaN, a 200 000-character field, the ids of the ELAN file used in the test).
"""

import csv
import io
import json
import math
import pickle
import re
import struct
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import yaml
from hypothesis import strategies as st
from pose_format.pose_header import PoseHeader
from pose_format.utils.reader import BufferReader

NUMBERS = ["-40", "-1", "0", "7", " 7 ", "2.5", "1e3", "nan", "inf", "1e999", "99999999999999999999", "9" * 5000]
WORDS = ["", "abc", '"', "\x00", "é", "x" * 200_000]  # the last is over csv's field limit
IDS = ["ts1", "ts3", "a1", "a3", "SIGN", "MOUTH", "lt", "ref"]  # the ELAN file's own ids, to tangle references
NASTY = st.sampled_from(NUMBERS + WORDS + IDS) | st.text(max_size=6)
VALUES = st.recursive(st.none() | st.booleans() | st.sampled_from([-1, 2**63, 10**400, 0.5, math.nan, math.inf]) | NASTY,
                      lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids, max_size=3),
                      max_leaves=5)
ARRAYS = st.builds(lambda shape, dtype: np.ones(shape, dtype), st.lists(st.integers(0, 4), max_size=3).map(tuple),
                   st.sampled_from(["f4", "f8", "i8", "U3", "b1", "c8"]))
PICKLE_VALUES = VALUES | ARRAYS | st.just(OrderedDict())  # OrderedDict is a global safe_load refuses


def _truncate(draw, b, name):
    return b[:draw(st.integers(0, max(len(b) - 1, 0)))]


def _flip(draw, b, name):
    out = bytearray(b)
    for i in draw(st.lists(st.integers(0, len(b) - 1), min_size=1, max_size=8)) if b else []:
        out[i] ^= 1 << draw(st.integers(0, 7))
    return bytes(out)


def _splice(draw, b, name):
    i = draw(st.integers(0, len(b)))
    j = draw(st.integers(i, min(len(b), i + 64)))
    return b[:i] + draw(st.binary(max_size=16)) + b[j:]


def _delete(draw, b, name):
    return None


def _field(draw, b, name):
    """A count or rate overwritten with an edge value, most often where the .pose body begins."""
    fmt, values = draw(st.sampled_from([("<H", [0, 1, 2, 65535]), ("<I", [0, 1, 3, 2**31, 2**32 - 1]), ("<h", [-1]),
                                        ("<f", [0.0, 0.1, 0.2, -1.0, math.nan, math.inf, 1e38])]))
    size = struct.calcsize(fmt)
    try:
        reader = BufferReader(b)
        PoseHeader.read(reader)
        hints = [0, reader.read_offset, reader.read_offset + 4, reader.read_offset + 8]
    except Exception:  # already mangled by an earlier mutation
        hints = [0]
    hints = [h for h in hints if h + size <= len(b)]
    if not hints:
        return b
    at = draw(st.sampled_from(hints) | st.integers(0, len(b) - size))
    return b[:at] + struct.pack(fmt, draw(st.sampled_from(values))) + b[at + size:]


def _empty_body(draw, b, name):
    """A .pose file cut after its body's counts, which claim no frame, one, or a few."""
    try:
        reader = BufferReader(b)
        PoseHeader.read(reader)
    except Exception:
        return b
    start = reader.read_offset
    return b[:start + 4] + struct.pack("<I", draw(st.sampled_from([0, 0, 1, 3]))) + b[start + 8:start + 10]


def _npy_header(draw, data):
    """An .npy member whose header claims another shape, dtype or order over the same data."""
    fh = io.BytesIO(data)
    try:
        read = {(1, 0): np.lib.format.read_array_header_1_0}.get(np.lib.format.read_magic(fh),
                                                                np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read(fh)
    except Exception:  # already mangled by an earlier mutation
        return data
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": fortran, "shape": shape}
    key = draw(st.sampled_from(sorted(header)))
    header[key] = draw({
        "descr": st.sampled_from(["<f4", "<f8", ">f4", "<i8", "|i1", "|b1", "<U3", "|S2", "|O", "|V8", "<c8", "<M8[s]",
                                  "<U0", [("a", "<f4"), ("b", "<i2")]]),
        "fortran_order": st.booleans(),
        "shape": st.lists(st.sampled_from([0, 1, 2, 3, 49, 147, -1, 2**31, 2**40, 10**12]), max_size=3).map(tuple),
    }[key])
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + data[fh.tell():]


def _zip(draw, b, name):
    try:
        with zipfile.ZipFile(io.BytesIO(b)) as zf:
            members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    except Exception:
        return b
    if not members:
        return b
    k = draw(st.integers(0, len(members) - 1))
    kind = draw(st.sampled_from(["drop", "bytes", "header", "header", "copy", "claim"]))
    member, data = members[k]
    if kind == "drop":
        del members[k]
    elif kind == "copy":
        members.append((draw(st.sampled_from(["extra.npy", member])), data))
    elif kind == "header" and member.endswith(".npy"):
        members[k] = (member, _npy_header(draw, data))
    else:
        members[k] = (member, draw(st.sampled_from([_truncate, _flip, _splice]))(draw, data, member))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": intended
        for member, data in members:
            zf.writestr(member, data)
    out = bytearray(out.getvalue())
    entries = [m.start() for m in re.finditer(b"PK\x01\x02", out)]
    if kind == "claim" and entries:  # the directory claims a far larger member than the file holds
        at = draw(st.sampled_from(entries)) + draw(st.sampled_from([20, 24]))  # compressed, uncompressed size
        out[at:at + 4] = struct.pack("<I", draw(st.sampled_from([2**20, 2**28, 2**32 - 1])))
    return bytes(out)


def _numeric(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+(\.\d*)?", text.strip()))


def _xml(draw, b, name):
    try:
        root = ET.fromstring(b)
    except Exception:  # not XML (any more): the generic edits cover that
        return b
    elements = list(root.iter())
    parent = {child: p for p in elements for child in p}
    pairs = [(e, key) for e in elements for key in sorted(e.attrib)]
    # Times and references live in attributes: numbers get numeric edge values, references other ids.
    numbers = [(e, k) for e, k in pairs if _numeric(e.get(k))]
    refs = [(e, k) for e, k in pairs if k.endswith(("REF", "REF1", "REF2", "_ID"))]
    kind = draw(st.sampled_from(["drop", "copy", "attribute", "number", "number", "reference", "text"]))
    if kind in ("attribute", "number", "reference") and pairs:
        e, key = draw(st.sampled_from({"number": numbers, "reference": refs}.get(kind) or pairs))
        value = draw({"number": st.sampled_from(NUMBERS), "reference": st.sampled_from(IDS)}.get(kind, NASTY | st.none()))
        e.attrib.pop(key) if value is None else e.set(key, value)
    elif kind in ("drop", "copy"):
        e = draw(st.sampled_from(elements[1:] or elements))
        if e in parent:
            parent[e].remove(e) if kind == "drop" else parent[e].append(e)
    else:
        draw(st.sampled_from(elements)).text = draw(NASTY)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _csv(draw, b, name, delimiter=","):
    try:
        rows = list(csv.reader(io.StringIO(b.decode("utf-8"), newline=""), delimiter=delimiter))
    except Exception:
        return b
    if not rows or not rows[0]:
        return b
    r = draw(st.integers(0, len(rows) - 1))
    c = draw(st.integers(0, max(len(rows[r]) - 1, 0)))
    kind = draw(st.sampled_from(["column", "cell", "cell", "number", "number", "short", "row", "copy"]))
    numbers = [(i, j) for i, row in enumerate(rows) for j, cell in enumerate(row) if _numeric(cell)]
    if kind == "number" and numbers:  # times and counts: the cells readers must check hardest
        r, c = draw(st.sampled_from(numbers))
        rows[r][c] = draw(st.sampled_from(NUMBERS))
    elif kind == "column":
        rows = [row[:c] + row[c + 1:] for row in rows]
    elif kind == "cell" and rows[r]:
        rows[r][c] = draw(st.sampled_from(NUMBERS) if _numeric(rows[r][c]) else NASTY)
    elif kind in ("short", "row"):
        rows[r:r + 1] = [rows[r][:-1]] if kind == "short" else []
    else:
        rows.append(list(rows[r]))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


def _nodes(obj, out):
    for key, value in (obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()):
        out.append((obj, key))
        _nodes(value, out)
    return out


TREES = {".json": (json.loads, lambda x: json.dumps(x).encode(), VALUES),
         ".yaml": (yaml.safe_load, lambda x: yaml.safe_dump(x).encode(), VALUES),
         ".pkl": (pickle.loads, lambda x: pickle.dumps(x, 4), PICKLE_VALUES)}


def _tree(draw, b, name):
    load, dump, values = TREES[Path(name).suffix]
    try:
        root = [load(b)]  # trusted: our own valid file, or one our own mutation wrote
    except Exception:
        return b
    nodes = _nodes(root, [])
    numbers = [(c, k) for c, k in nodes if isinstance(c[k], (int, float)) and not isinstance(c[k], bool)]
    kind = draw(st.sampled_from(["delete", "replace", "replace", "add", "number", "number"]))
    container, key = draw(st.sampled_from(numbers if kind == "number" and numbers else nodes))
    if kind == "number":  # times, counts, rates: edge values where a number belongs
        container[key] = draw(st.sampled_from([-1, -40, 0, 0.5, 2**63, 10**400, 1e308, math.nan, math.inf]))
    elif kind == "delete":
        del container[key]
    elif kind == "replace":
        container[key] = draw(values)
    elif isinstance(container, dict):
        container[draw(st.text(max_size=4))] = draw(values)
    else:
        container.insert(key, draw(values))
    return dump(root[0]) if root else b""


def _lines(draw, b, name):
    try:
        lines = b.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return b
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["drop", "copy", "token", "token"]))
    if kind in ("drop", "copy"):
        lines[i:i + 1] = [] if kind == "drop" else [lines[i], lines[i]]
    else:
        tokens = lines[i].split(" ")
        tokens[draw(st.integers(0, len(tokens) - 1))] = draw(st.sampled_from(NUMBERS + ["abc", ""]))
        lines[i] = " ".join(tokens)
    return "\n".join(lines).encode("utf-8")


GENERIC = [_truncate, _flip, _splice, _delete, "renumber"]
BY_SUFFIX = {".npz": [_zip] * 4, ".pt": [_zip] * 4, ".eaf": [_xml] * 5, ".csv": [_csv] * 4, ".txt": [_csv] * 4,
             ".json": [_tree] * 4, ".yaml": [_tree] * 4, ".pkl": [_tree] * 3, ".pose": [_field, _field, _empty_body],
             ".skels": [_lines] * 3, ".text": [_lines], ".files": [_lines], ".gloss": [_lines]}


@st.composite
def mutated(draw, files: dict[str, bytes], delimiters: dict[str, str]) -> dict[str, bytes]:
    """``files`` after one or two edits; ``delimiters`` maps a table's file name to its delimiter."""
    files = dict(files)
    for _ in range(draw(st.sampled_from([1, 1, 1, 2]))):  # mostly one: a second often just breaks the first
        if not files:
            break
        name = draw(st.sampled_from(sorted(files)))
        op = draw(st.sampled_from(GENERIC + BY_SUFFIX.get(Path(name).suffix, [])))
        if op == "renumber":  # a frame file moved to another number (a gap, a clash) or into a hidden folder
            if "/" in name:
                new = re.sub(r"\d+(?=\D*$)", lambda m: str(draw(st.integers(0, 12))), name, count=1)
                files[draw(st.sampled_from([new, f"{Path(name).parent}/.tmp/{Path(name).name}"]))] = files.pop(name)
            continue
        if op is _csv:
            out = _csv(draw, files[name], name, delimiters.get(Path(name).name, ","))
        else:
            out = op(draw, files[name], name)
        if out is None:
            del files[name]
        else:
            files[name] = out
    return files
