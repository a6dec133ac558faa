"""ELAN ``.eaf`` sign tiers: round trips, ms ↔ frame rounding, malformed files."""

import numpy as np
import pytest

from signlib.data import Segment
from signlib.data.formats.elan import (eaf_segments, frame_to_ms, ms_to_frame, read_eaf, write_eaf,
                                       write_segments_eaf)
from signlib.errors import SignlibError

TIERS = {
    "GLOSS_RH": [(0, 480, "HOUSE1A"), (480, 1000, "YOUNG1"), (1500, 2040, "")],
    "GLOSS_LH": [(120, 600, "DIFFERENT1")],
    "Deutsch": [(0, 2040, "Wir hatten etwas Einfaches erwartet, ä ö ü ß")],
}

EAF_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<ANNOTATION_DOCUMENT AUTHOR="" DATE="2020-01-01T00:00:00+00:00" '
            'FORMAT="3.0" VERSION="3.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">'
            '<HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/>')
EAF_TAIL = '<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/></ANNOTATION_DOCUMENT>\n'


def eaf_text(slots: str, tier: str) -> str:
    return EAF_HEAD + f"<TIME_ORDER>{slots}</TIME_ORDER>" + tier + EAF_TAIL


def sign_tier(ref1="ts1", ref2="ts2"):
    return ('<TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="SIGN"><ANNOTATION>'
            f'<ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="{ref1}" TIME_SLOT_REF2="{ref2}">'
            '<ANNOTATION_VALUE>HOUSE</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION></TIER>')


SLOTS = '<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="40"/><TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="520"/>'


def test_tiers_round_trip(tmp_path):
    write_eaf(tmp_path / "a.eaf", TIERS)
    assert read_eaf(tmp_path / "a.eaf") == {k: sorted(v) for k, v in TIERS.items()}


def test_read_eaf_can_pick_tiers(tmp_path):
    write_eaf(tmp_path / "a.eaf", TIERS)
    assert list(read_eaf(tmp_path / "a.eaf", tiers=["GLOSS_LH"])) == ["GLOSS_LH"]


def test_hand_written_elan_3_file_reads(tmp_path):
    (tmp_path / "h.eaf").write_text(eaf_text(SLOTS, sign_tier()), encoding="utf-8")
    assert read_eaf(tmp_path / "h.eaf") == {"SIGN": [(40, 520, "HOUSE")]}
    assert eaf_segments(tmp_path / "h.eaf", "SIGN", fps=25) == [Segment(1, 13, "HOUSE")]


def test_same_tiers_give_the_same_bytes(tmp_path):
    write_eaf(tmp_path / "a.eaf", TIERS)
    write_eaf(tmp_path / "b.eaf", dict(reversed(list(TIERS.items()))) | {"GLOSS_RH": TIERS["GLOSS_RH"][::-1]})
    write_eaf(tmp_path / "c.eaf", TIERS)
    assert (tmp_path / "a.eaf").read_bytes() == (tmp_path / "c.eaf").read_bytes()
    assert read_eaf(tmp_path / "b.eaf") == read_eaf(tmp_path / "a.eaf")


def test_media_path_is_linked_relative_to_the_eaf(tmp_path):
    (tmp_path / "clip.pose").write_bytes(b"")
    write_eaf(tmp_path / "sub" / "a.eaf", TIERS, media_path=tmp_path / "clip.pose")
    text = (tmp_path / "sub" / "a.eaf").read_text(encoding="utf-8")
    assert 'RELATIVE_MEDIA_URL="../clip.pose"' in text and "file://" in text


@pytest.mark.parametrize("fps", [24, 25, 29.97, 30, 50, 59.94])
def test_segments_round_trip_through_milliseconds(tmp_path, fps):
    rng = np.random.default_rng(int(fps * 100))
    bounds = np.sort(rng.choice(np.arange(1, 400), size=20, replace=False))
    segments = [Segment(int(a), int(b), f"G{i}") for i, (a, b) in enumerate(zip(bounds[::2], bounds[1::2]))]
    write_segments_eaf(tmp_path / "s.eaf", segments, fps)
    assert eaf_segments(tmp_path / "s.eaf", "SIGN", fps) == segments


@pytest.mark.parametrize("ms, fps, frame", [(0, 25, 0), (19, 25, 0), (20, 25, 1), (39, 25, 1), (40, 25, 1),
                                            (1000, 29.97, 30), (16, 30, 0), (17, 30, 1)])
def test_milliseconds_map_to_the_nearest_frame_boundary(ms, fps, frame):
    assert ms_to_frame(ms, fps) == frame


@pytest.mark.parametrize("frame, fps, ms", [(0, 25, 0), (1, 25, 40), (1, 30, 33), (2, 30, 67), (3, 29.97, 100)])
def test_frames_map_to_the_nearest_millisecond(frame, fps, ms):
    assert frame_to_ms(frame, fps) == ms


def test_a_sign_shorter_than_a_frame_keeps_one_frame(tmp_path):
    write_eaf(tmp_path / "a.eaf", {"SIGN": [(100, 105, "QUICK")]})
    assert eaf_segments(tmp_path / "a.eaf", "SIGN", 25) == [Segment(3, 4, "QUICK")]


def test_segments_are_clipped_to_the_clip_and_beyond_it_is_an_error(tmp_path):
    write_eaf(tmp_path / "a.eaf", {"SIGN": [(0, 500, "A"), (800, 1200, "B")]})
    assert eaf_segments(tmp_path / "a.eaf", "SIGN", 25, num_frames=25)[-1] == Segment(20, 25, "B")
    with pytest.raises(SignlibError, match=r"a\.eaf.*'SIGN'.*'B'"):
        eaf_segments(tmp_path / "a.eaf", "SIGN", 25, num_frames=20)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("text", [
    "<ANNOTATION_DOCUMENT><TIER",  # cut XML
    "not xml at all",
    "",
    "<?xml version='1.0'?><html><body/></html>",  # XML, not EAF
], ids=["cut", "text", "empty", "other_xml"])
def test_malformed_eaf_is_an_error_naming_it(tmp_path, text):
    (tmp_path / "bad.eaf").write_text(text, encoding="utf-8")
    with pytest.raises(SignlibError, match=r"bad\.eaf") as info:
        read_eaf(tmp_path / "bad.eaf")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("slots, tier", [
    (SLOTS, sign_tier(ref2="ts9")),  # refers to a slot that does not exist
    ('<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="40"/><TIME_SLOT TIME_SLOT_ID="ts2"/>', sign_tier()),  # no time
    ('<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="600"/><TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="40"/>', sign_tier()),
], ids=["missing_slot", "unaligned_slot", "backwards"])
def test_broken_time_slots_are_an_error_naming_file_and_tier(tmp_path, slots, tier):
    (tmp_path / "slots.eaf").write_text(eaf_text(slots, tier), encoding="utf-8")
    with pytest.raises(SignlibError, match=r"slots\.eaf.*'SIGN'"):
        eaf_segments(tmp_path / "slots.eaf", "SIGN", 25)


def test_missing_tier_is_an_error_naming_file_tier_and_the_tiers_present(tmp_path):
    write_eaf(tmp_path / "a.eaf", TIERS)
    with pytest.raises(SignlibError, match=r"a\.eaf.*'SIGN'.*GLOSS_LH"):
        eaf_segments(tmp_path / "a.eaf", "SIGN", 25)
    with pytest.raises(SignlibError, match=r"a\.eaf.*'SIGN'"):
        read_eaf(tmp_path / "a.eaf", tiers=["SIGN"])


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(SignlibError, match=r"nothing\.eaf.*no such file"):
        read_eaf(tmp_path / "nothing.eaf")


@pytest.mark.parametrize("tiers", [
    {"SIGN": [(500, 500, "ZERO")]},
    {"SIGN": [(600, 500, "BACKWARDS")]},
    {"SIGN": [(-40, 500, "NEGATIVE")]},
    {"SIGN": [(0.5, 500, "FRACTION")]},
    {"SIGN": [(0, 500)]},
    {"": [(0, 500, "NAMELESS")]},
], ids=["zero_length", "backwards", "negative", "fraction", "no_value", "empty_name"])
def test_bad_annotations_are_refused_and_the_old_file_is_kept(tmp_path, tiers):
    path = tmp_path / "keep.eaf"
    write_eaf(path, TIERS)
    before = path.read_bytes()
    with pytest.raises(SignlibError, match=r"keep\.eaf"):
        write_eaf(path, tiers)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.eaf"]  # no temporary or .bak left behind


def test_overwriting_leaves_no_backup_file(tmp_path):
    write_eaf(tmp_path / "a.eaf", TIERS)
    write_segments_eaf(tmp_path / "a.eaf", [Segment(0, 10, "X")], 25)
    assert [p.name for p in tmp_path.iterdir()] == ["a.eaf"]
    assert read_eaf(tmp_path / "a.eaf") == {"SIGN": [(0, 400, "X")]}


def _slots(t1, t2):
    return f'<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="{t1}"/><TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="{t2}"/>'


@pytest.mark.parametrize("t1, t2, message", [
    ("-40", "520", r"tier 'SIGN': annotation 'HOUSE' \(a1\) has time -40 ms \(time slot 'ts1'\)"),
    ("0", "99999999999999999999", r"tier 'SIGN': annotation 'HOUSE' \(a1\) has time 99999999999999999999 ms"),
    ("abc", "520", r"tier 'SIGN': annotation 'a1' uses time slot 'ts1', whose TIME_VALUE 'abc' is not whole"),
    ("40", "1e3", r"tier 'SIGN': annotation 'a1' uses time slot 'ts2', whose TIME_VALUE '1e3'"),
], ids=["negative", "huge", "text", "float"])
def test_impossible_times_name_file_tier_and_annotation(tmp_path, t1, t2, message):
    # A negative time used to read as a negative frame; a non-number as pympi's bare ValueError.
    (tmp_path / "t.eaf").write_text(eaf_text(_slots(t1, t2), sign_tier()), encoding="utf-8")
    for read in (lambda: read_eaf(tmp_path / "t.eaf"), lambda: eaf_segments(tmp_path / "t.eaf", "SIGN", 25)):
        with pytest.raises(SignlibError, match=rf"t\.eaf: {message}") as err:
            read()
        assert "\n" not in str(err.value)


def _ref_tier(tier_id, parent, aid, ref):
    return (f'<TIER LINGUISTIC_TYPE_REF="default-lt" PARENT_REF="{parent}" TIER_ID="{tier_id}"><ANNOTATION>'
            f'<REF_ANNOTATION ANNOTATION_ID="{aid}" ANNOTATION_REF="{ref}"><ANNOTATION_VALUE>x</ANNOTATION_VALUE>'
            '</REF_ANNOTATION></ANNOTATION></TIER>')


def test_reference_annotations_take_their_parents_times_through_a_chain(tmp_path):
    tiers = sign_tier() + _ref_tier("MOUTH", "SIGN", "a2", "a1") + _ref_tier("NOTE", "MOUTH", "a3", "a2")
    (tmp_path / "r.eaf").write_text(eaf_text(SLOTS, tiers), encoding="utf-8")
    assert read_eaf(tmp_path / "r.eaf") == {"SIGN": [(40, 520, "HOUSE")], "MOUTH": [(40, 520, "x")],
                                            "NOTE": [(40, 520, "x")]}


@pytest.mark.parametrize("tiers, message", [
    (_ref_tier("MOUTH", "SIGN", "a2", "a2"), "annotation 'a2' refers to itself through annotation 'a2'"),
    (_ref_tier("MOUTH", "NOTE", "a2", "a3") + _ref_tier("NOTE", "MOUTH", "a3", "a2"), "a cycle of references"),
    (_ref_tier("MOUTH", "SIGN", "a2", "a9"), "refers to a missing annotation 'a9'"),
], ids=["self", "two_tiers", "missing"])
def test_broken_reference_chains_are_errors_not_hangs(tmp_path, tiers, message):
    # pympi's own walk up the references loops forever on a cycle.
    (tmp_path / "c.eaf").write_text(eaf_text(SLOTS, sign_tier() + tiers), encoding="utf-8")
    with pytest.raises(SignlibError, match=rf"c\.eaf: tier '(MOUTH|NOTE)': .*{message}"):
        read_eaf(tmp_path / "c.eaf")


def test_an_entity_expansion_bomb_is_refused(tmp_path):
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefgh", "bcdefghi"))
    text = f'<?xml version="1.0"?><!DOCTYPE x [{entities}]><ANNOTATION_DOCUMENT AUTHOR="&i;"/>'
    (tmp_path / "bomb.eaf").write_text(text, encoding="utf-8")  # 10**9 characters once expanded
    with pytest.raises(SignlibError, match=r"bomb\.eaf: not a readable ELAN \.eaf file"):
        read_eaf(tmp_path / "bomb.eaf")


def test_an_annotation_without_a_value_element_is_named(tmp_path):
    tier = sign_tier().replace("<ANNOTATION_VALUE>HOUSE</ANNOTATION_VALUE>", "")
    (tmp_path / "v.eaf").write_text(eaf_text(SLOTS, tier), encoding="utf-8")
    with pytest.raises(SignlibError, match=r"v\.eaf: .*an annotation has no ANNOTATION_VALUE"):
        read_eaf(tmp_path / "v.eaf")


def test_writer_refuses_times_the_reader_would_refuse(tmp_path):
    with pytest.raises(SignlibError, match=r"w\.eaf: .*<= 2147483647"):
        write_eaf(tmp_path / "w.eaf", {"SIGN": [(0, 2**31, "LONG")]})
