import json

import pytest

from signlib.data.formats.annotations import (
    CSL_DAILY_COLUMNS, HOW2SIGN_COLUMNS, LEXICON_COLUMNS, PHOENIX_COLUMNS, Annotation, read_csl_daily,
    read_dgs_fluent_folder, read_dgs_fluent_metadata, read_how2sign_csv, read_lexicon_index, read_phoenix_csv,
    write_csl_daily, write_how2sign_csv, write_phoenix_csv)
from signlib.errors import SignlibError

PHOENIX = [
    Annotation("01April_2010_Thursday_heute-6704", "und nun die wettervorhersage", ("JETZT", "WETTER"),
               signer="Signer04", language="DGS", extras={"video": "01April_2010_Thursday_heute-6704/1/*.png"}),
    Annotation("x-2", "am tag | sonne", ("SONNE",), start=1.0, end=2.4, signer="Signer01", language="DGS",
               extras={"video": "x-2/1/*.png"}),
]
HOW2SIGN = [
    Annotation("-fZc293MpJk_0-1-rgb_front", 'And I said "hi".', start=0.0, end=1.6, language="ASL",
               extras={"VIDEO_ID": "-fZc293MpJk", "VIDEO_NAME": "-fZc293MpJk-1-rgb_front",
                       "SENTENCE_ID": "-fZc293MpJk_0"}),
    Annotation("a_1-rgb_front", "Hi, tab\there.", start=12.34, end=15.5, language="ASL",
               extras={"VIDEO_ID": "a", "VIDEO_NAME": "a-rgb_front", "SENTENCE_ID": "a_1"}),
]
CSL = [
    Annotation("S000000_P0000_T00", "他的同学是警察", ("他", "同学", "警察"), signer="P0000", language="CSL",
               extras={"index": 0, "length": 86, "char": "他 的 同 学 是 警 察", "word": "他 的 同学 是 警察",
                       "postag": "r u n v n"}),
]
CASES = {
    "phoenix": (write_phoenix_csv, read_phoenix_csv, PHOENIX, "corpus.csv"),
    "how2sign": (write_how2sign_csv, read_how2sign_csv, HOW2SIGN, "realigned.csv"),
    "csl_daily": (write_csl_daily, read_csl_daily, CSL, "video_map.txt"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_write_then_read_gives_the_same_records(tmp_path, name):
    write, read, records, filename = CASES[name]
    write(tmp_path / filename, records)
    assert read(tmp_path / filename) == records


@pytest.mark.parametrize("name", list(CASES))
def test_rewriting_what_was_read_is_byte_identical(tmp_path, name):
    write, read, records, filename = CASES[name]
    write(tmp_path / "a", records)
    write(tmp_path / "b", read(tmp_path / "a"))
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_phoenix_reader_parses_the_published_layout(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("|".join(PHOENIX_COLUMNS) + "\nn1|n1/1/*.png|-1|-1|Signer05|A B  C|hallo welt\n", encoding="utf-8")
    (a,) = read_phoenix_csv(path)
    assert (a.id, a.glosses, a.text, a.signer) == ("n1", ("A", "B", "C"), "hallo welt", "Signer05")
    assert a.start is None and a.end is None  # -1: the whole video


def test_how2sign_reader_accepts_unrealigned_start_end(tmp_path):
    path = tmp_path / "h.csv"
    cols = list(HOW2SIGN_COLUMNS[:4]) + ["START", "END", "SENTENCE"]
    path.write_text("\t".join(cols) + "\nv\tvn\ts\tsn\t1.5\t2.5\tHello.\n", encoding="utf-8")
    (a,) = read_how2sign_csv(path)
    assert (a.start, a.end, a.text, a.glosses) == (1.5, 2.5, "Hello.", ())


def test_csl_daily_signer_comes_from_the_name(tmp_path):
    path = tmp_path / "video_map.txt"
    path.write_text("|".join(CSL_DAILY_COLUMNS) + "\n3|S000003_P0007_T00|120|我 好|我 很 好|我 很好|r d a\n", encoding="utf-8")
    (a,) = read_csl_daily(path)
    assert (a.signer, a.text, a.glosses, a.extras["length"]) == ("P0007", "我很好", ("我", "好"), 120)


def test_lexicon_index_times_are_seconds_and_zero_end_means_whole_file(tmp_path):
    path = tmp_path / "index.csv"
    rows = ["sgg/a.pose,de,sgg,0,0,essen,Essen,0", "ase/b.pose,en,ase,500,2720,B,B,1"]
    path.write_text("\n".join([",".join(LEXICON_COLUMNS)] + rows) + "\n", encoding="utf-8")
    a, b = read_lexicon_index(path)
    assert (a.id, a.text, a.glosses, a.language) == ("sgg/a.pose", "essen", ("Essen",), "sgg")
    assert (a.start, a.end) == (0.0, None)
    assert (b.start, b.end, b.extras["priority"], b.extras["spoken_language"]) == (0.5, 2.72, 1, "en")


def _dgs_meta(**sentence):
    sent = {"id": "a1", "start": 1000, "end": 3000, "english": "Hello.", "german": "Hallo.",
            "glosses": {"gloss": ["HALLO1", "ICH1"], "start": [1100, 2000], "end": [1900, 2900]}}
    sent.update(sentence)
    return {"document_id": "42", "id": "42_a1", "sentence": sent}


def test_dgs_fluent_metadata_gives_glosses_and_spans_in_seconds(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "train_1_metadata.json").write_text(json.dumps(_dgs_meta()), encoding="utf-8")
    (a,) = read_dgs_fluent_folder(tmp_path)
    assert (a.id, a.text, a.glosses, a.start, a.end) == ("42_a1", "Hallo.", ("HALLO1", "ICH1"), 1.0, 3.0)
    assert a.extras["gloss_spans"] == ((1.1, 1.9), (2.0, 2.9)) and a.extras["english"] == "Hello."


@pytest.mark.parametrize("meta, message", [
    ({"document_id": "1", "id": "x"}, "missing key 'sentence'"),
    (_dgs_meta(glosses={"gloss": ["A"], "start": [1]}), "missing key 'sentence.glosses.end'"),
    (_dgs_meta(glosses={"gloss": ["A", "B"], "start": [1], "end": [2]}), "equal length"),
    (_dgs_meta(start="soon"), "must be numbers"),
])
def test_bad_dgs_metadata_names_the_file(tmp_path, meta, message):
    path = tmp_path / "bad_metadata.json"
    path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(SignlibError, match=rf"bad_metadata\.json: .*{message}"):
        read_dgs_fluent_metadata(path)


def test_invalid_json_names_the_file(tmp_path):
    (tmp_path / "t_metadata.json").write_text("{", encoding="utf-8")
    with pytest.raises(SignlibError, match=r"t_metadata\.json: not valid JSON"):
        read_dgs_fluent_metadata(tmp_path / "t_metadata.json")


READERS = {
    "phoenix": (read_phoenix_csv, "|", PHOENIX_COLUMNS),
    "how2sign": (read_how2sign_csv, "\t", HOW2SIGN_COLUMNS),
    "csl_daily": (read_csl_daily, "|", CSL_DAILY_COLUMNS),
    "lexicon": (read_lexicon_index, ",", LEXICON_COLUMNS),
}
MISSING = [(name, col) for name, (_, _, cols) in READERS.items() for col in cols]


@pytest.mark.parametrize("name, column", MISSING)
def test_missing_column_names_the_file_and_the_column(tmp_path, name, column):
    read, sep, cols = READERS[name]
    kept = [c for c in cols if c != column]
    path = tmp_path / "table.csv"
    path.write_text(sep.join(kept) + "\n" + sep.join("1" for _ in kept) + "\n", encoding="utf-8")
    with pytest.raises(SignlibError, match=rf"table\.csv: missing column '{column}'") as err:
        read(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", list(READERS))
@pytest.mark.parametrize("problem, message", [("short row", "line 2: .* columns expected"),
                                              ("long row", "line 2: .* columns expected"),
                                              ("empty", "empty file")])
def test_malformed_tables_name_the_file(tmp_path, name, problem, message):
    read, sep, cols = READERS[name]
    row = ["1"] * len(cols)
    row = row[:-1] if problem == "short row" else row + ["extra"] if problem == "long row" else row
    text = "" if problem == "empty" else sep.join(cols) + "\n" + sep.join(row) + "\n"
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    with pytest.raises(SignlibError, match=rf"t\.csv: {message}"):
        read(tmp_path / "t.csv")


@pytest.mark.parametrize("name, column", [("phoenix", "start"), ("how2sign", "END_REALIGNED"), ("lexicon", "priority")])
def test_non_numeric_time_names_the_column(tmp_path, name, column):
    read, sep, cols = READERS[name]
    row = ["x" if c == column else "1" for c in cols]
    (tmp_path / "t.csv").write_text(sep.join(cols) + "\n" + sep.join(row) + "\n", encoding="utf-8")
    with pytest.raises(SignlibError, match=rf"t\.csv: line 2: column '{column}' is not a number"):
        read(tmp_path / "t.csv")


def test_missing_or_binary_file_names_the_file(tmp_path):
    with pytest.raises(SignlibError, match=r"gone\.csv: cannot read"):
        read_phoenix_csv(tmp_path / "gone.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(SignlibError, match=r"bin\.csv: not UTF-8"):
        read_phoenix_csv(tmp_path / "bin.csv")


def test_failed_write_leaves_the_old_table_byte_identical(tmp_path):
    path = tmp_path / "corpus.csv"
    write_phoenix_csv(path, PHOENIX)
    before = path.read_bytes()
    broken = PHOENIX + [Annotation("bad", start=object())]  # fails while encoding the last row
    with pytest.raises(TypeError):
        write_phoenix_csv(path, broken)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["corpus.csv"]


def test_annotations_are_frozen_and_hashable():
    a = PHOENIX[0]
    with pytest.raises(AttributeError):
        a.text = "x"
    assert len({a, PHOENIX[0]}) == 1


@pytest.mark.parametrize("name", list(READERS))
def test_a_field_over_the_csv_limit_is_one_line_naming_file_and_line(tmp_path, name):
    read, sep, cols = READERS[name]
    rows = [cols, ["1"] * len(cols), ["x" * 200_000] + ["1"] * (len(cols) - 1)]
    (tmp_path / "t.csv").write_text("".join(sep.join(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(SignlibError, match=r"t\.csv: line 3: not a valid table row \(field larger than") as err:
        read(tmp_path / "t.csv")
    assert "\n" not in str(err.value) and len(str(err.value)) < 300


def _table(tmp_path, name, **cells):
    read, sep, cols = READERS[name]
    row = [cells.get(c, "1") for c in cols]
    (tmp_path / "t.csv").write_text(sep.join(cols) + "\n" + sep.join(row) + "\n", encoding="utf-8")
    return lambda: read(tmp_path / "t.csv")


@pytest.mark.parametrize("name, cells, message", [
    ("how2sign", {"START_REALIGNED": "nan"}, "'START_REALIGNED' is nan, not a finite number"),
    ("how2sign", {"END_REALIGNED": "inf"}, "not a finite number"),
    ("how2sign", {"START_REALIGNED": "-3.5"}, "must be at least 0"),
    ("how2sign", {"START_REALIGNED": "9", "END_REALIGNED": "2"}, "ends .* before it starts"),
    ("phoenix", {"start": "-5"}, "'start' is -5; it must be at least -1"),
    ("phoenix", {"start": "50", "end": "25"}, "ends .* before it starts"),
    ("phoenix", {"end": "9" * 30}, "not a finite number"),
    ("csl_daily", {"length": "-1"}, "'length' is -1"),
    ("lexicon", {"start": "-40"}, "'start' is -40"),
    ("lexicon", {"start": "500", "end": "100"}, "ends .* before it starts"),
    ("lexicon", {"end": "1e999"}, "not a finite number"),
])
def test_impossible_numbers_are_refused_naming_file_line_and_column(tmp_path, name, cells, message):
    with pytest.raises(SignlibError, match=rf"t\.csv: line 2: .*{message}"):
        _table(tmp_path, name, **cells)()


def test_whole_video_and_open_ended_spans_still_read(tmp_path):
    (a,) = _table(tmp_path, "phoenix", start="-1", end="-1")()
    assert a.start is None and a.end is None
    (b,) = _table(tmp_path, "lexicon", start="100", end="0")()
    assert (b.start, b.end) == (0.1, None)


@pytest.mark.parametrize("meta, message", [
    (_dgs_meta(start=-5), "sentence: times -5-"),
    (_dgs_meta(start=3500), "sentence: times 3500-"),  # after its end
    (_dgs_meta(glosses={"gloss": ["A"], "start": [float("nan")], "end": [5]}), r"sentence\.glosses\[0\]"),
    (_dgs_meta(glosses={"gloss": ["A"], "start": [10**400], "end": [5]}), "must be numbers"),
    (_dgs_meta(glosses={"gloss": [{"x": 1}], "start": [1], "end": [5]}), "list of strings"),
    ({**_dgs_meta(), "id": ["s1"]}, "'id' must be a string"),
])
def test_impossible_dgs_times_and_types_are_refused(tmp_path, meta, message):
    path = tmp_path / "bad_metadata.json"
    path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(SignlibError, match=rf"bad_metadata\.json: .*{message}"):
        read_dgs_fluent_metadata(path)


def test_deeply_nested_json_is_one_line(tmp_path):
    path = tmp_path / "deep_metadata.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(SignlibError, match=r"deep_metadata\.json: not valid JSON"):
        read_dgs_fluent_metadata(path)


def test_folder_reader_skips_temporary_files_of_interrupted_writers(tmp_path):
    (tmp_path / "a_metadata.json").write_text(json.dumps(_dgs_meta()), encoding="utf-8")
    (tmp_path / ".tmp").mkdir()
    (tmp_path / ".tmp" / "b_metadata.json").write_text("{", encoding="utf-8")
    assert len(read_dgs_fluent_folder(tmp_path)) == 1
