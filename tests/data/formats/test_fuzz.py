"""Fuzzing every reader: a mutated valid file reads as a sane result or as one SignlibError, quickly.

Each case is a valid file set (``{relative path: bytes}``) made by the matching writer, or by hand
where signlib has no writer, a reader, and a check of what the reader returns. Hypothesis draws one
or two mutations of the set (``fuzz_mutations.py``: byte edits, and edits of zip members, ``.npy``
headers, XML, CSV, JSON / YAML / pickle nodes, binary counts and text lines). The test fails on
any exception but SignlibError, an error that is not one line naming a file of the set, a warning,
an example slower than 2 s, or one whose traced memory (numpy's arrays included) peaks over 200 MB.
Examples are derandomized, so a run is reproducible.
"""

import json
import math
import pickle
import signal
import sys
import tempfile
import time
import tracemalloc
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from signlib.data import Sequence, mask_missing
from signlib.data.formats import annotations as ann
from signlib.data.formats.elan import eaf_segments, read_eaf
from signlib.data.formats.fast_segments import read_segments, write_segments
from signlib.data.formats.pose_file import pose_to_sequence, read_pose, read_pose_header
from signlib.data.formats.pose_writer import write_pose
from signlib.data.formats.prompt2sign import SkelsSample, read_prompt2sign, write_prompt2sign
from signlib.data.formats.signspark import read_signspark, write_signspark
from signlib.data.formats.soke import read_soke_clip, write_soke_clip
from signlib.data.safe_pickle import safe_load
from signlib.data.sources import read_spec
from signlib.data.store import read_clip, write_clip
from signlib.errors import SignlibError
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d_np

sys.path.insert(0, str(Path(__file__).parent))
from fuzz_mutations import mutated  # noqa: E402  (a helper beside this file, not a package)

MAX_SECONDS, MAX_BYTES, EXAMPLES = 2.0, 200 * 2**20, 200

# ---------------------------------------------------------------- valid inputs and what a result must be


def _seq(layout: str, T: int = 3) -> Sequence:
    rng, lay = np.random.default_rng(0), get_layout(layout)
    if lay.kind == "xyz":
        x = rng.normal(size=(T, lay.dim)).astype(np.float32)
        x[1, :3] = np.nan  # one missing joint, so masks are exercised
        feats, valid = mask_missing(x, lay)
    else:
        feats, valid = axis_angle_to_rot6d_np(rng.uniform(-1, 1, (T, lay.num_joints, 3))).reshape(T, lay.dim), None
    return Sequence(feats.astype(np.float32), layout, 25.0, valid=valid, segments=[(0, 2, "HAUS")], text="das Haus",
                    language="DGS", signer="s1", id="clip")


def _slot(ts, ms):
    return f'<TIME_SLOT TIME_SLOT_ID="{ts}" TIME_VALUE="{ms}"/>'


def _annotation(aid, inner, value):
    return f"<ANNOTATION><{inner} ANNOTATION_ID=\"{aid}\"><ANNOTATION_VALUE>{value}</ANNOTATION_VALUE></{inner.split()[0]}></ANNOTATION>"


EAF = ('<?xml version="1.0" encoding="UTF-8"?>\n<ANNOTATION_DOCUMENT AUTHOR="" DATE="2020-01-01T00:00:00+00:00" '
       'FORMAT="3.0" VERSION="3.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation='
       '"http://www.mpi.nl/tools/elan/EAFv3.0.xsd"><HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/><TIME_ORDER>'
       + _slot("ts1", 40) + _slot("ts2", 520) + _slot("ts3", 900) + '</TIME_ORDER><TIER LINGUISTIC_TYPE_REF="lt" '
       'TIER_ID="SIGN">' + _annotation("a1", 'ALIGNABLE_ANNOTATION TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2"', "HOUSE")
       + _annotation("a2", 'ALIGNABLE_ANNOTATION TIME_SLOT_REF1="ts2" TIME_SLOT_REF2="ts3"', "TREE")
       + '</TIER><TIER LINGUISTIC_TYPE_REF="ref" PARENT_REF="SIGN" TIER_ID="MOUTH">'
       + _annotation("a3", 'REF_ANNOTATION ANNOTATION_REF="a1"', "haus") + '</TIER><LINGUISTIC_TYPE '
       'LINGUISTIC_TYPE_ID="lt" TIME_ALIGNABLE="true"/><LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="ref" '
       'TIME_ALIGNABLE="false"/></ANNOTATION_DOCUMENT>\n')
PHOENIX = [ann.Annotation("n1", "am tag sonne", ("SONNE",), start=1.0, end=2.4, signer="S1", language="DGS",
                          extras={"video": "n1/1/*.png"})]
H2S = [ann.Annotation("s_1-rgb_front", "Hi there.", start=12.5, end=15.0, language="ASL",
                      extras={"VIDEO_ID": "s", "VIDEO_NAME": "s-rgb_front", "SENTENCE_ID": "s_1"})]
CSL = [ann.Annotation("S000000_P0000_T00", "他是警察", ("他", "警察"), signer="P0000", language="CSL",
                      extras={"index": 0, "length": 86, "char": "他 是 警 察", "word": "他 是 警察", "postag": "r v n"})]
LEXICON = ",".join(ann.LEXICON_COLUMNS) + "\nase/house.pose,en,ase,0,1200,house,HOUSE,1\nase/tree.pose,en,ase,100,0,tree,,2\n"
DGS_FLUENT = {"document_id": "1289910", "id": "s1", "sentence": {
    "id": "7", "start": 1000, "end": 2600, "english": "The house.", "german": "Das Haus.",
    "glosses": {"gloss": ["HAUS1A", "$INDEX1"], "start": [1000, 1800], "end": [1700, 2500]}}}
PICKLED = {"pose": np.arange(6, dtype=np.float32).reshape(2, 3), "ids": [1, 2.5, "x", None, b"\x00"], "s": {3},
           "n": np.int64(4), "names": np.array(["A", "BC"]), "rec": np.zeros(1, [("a", "<f4"), ("b", ">i2")])}
SPEC = {"format": "pose", "files": "clips/*.pose", "fps": 25, "language": "DGS", "signers": "", "eaf_tier": "SIGN",
        "synthetic": None, "text_tier": "TEXT"}
SKELS = [SkelsSample("s1", "hallo", np.arange(12, dtype=np.float32).reshape(2, 6) / 7, None, "HALLO"),
         SkelsSample("s2", "welt", np.ones((1, 6), np.float32), None, "WELT")]
SEGMENTS = {"c1": {"segments": [[0, 3], [4, 9]], "glosses": ["A", "B"], "scores": [0.5, 0.9], "fps": 25.0}}


def _text(name: str, text: str):
    return lambda d: (d / name).write_bytes(text.encode("utf-8"))


def _times_ok(a) -> bool:
    times = [t for t in (a.start, a.end) if t is not None]
    return all(math.isfinite(t) and t >= 0 for t in times) and (len(times) < 2 or a.start <= a.end)


def _eaf_ok(result) -> bool:
    tiers, segments = result
    return (all(isinstance(a, int) and isinstance(b, int) and 0 <= a <= b for rows in tiers.values() for a, b, _ in rows)
            and all(0 <= s.start < s.end <= 40 for s in segments))


def _any(result) -> bool:
    return True


def _is_seq(result) -> bool:
    return isinstance(result, Sequence)  # a Sequence checks itself on construction


def _soke_clip(d: Path) -> None:
    # Each frame carries its number (cam_trans x = 1000 + t) so a silently skipped frame shows.
    seq = _seq("rot6d")
    write_soke_clip(d / "clip", seq.replace(meta={"smplx": {"cam_trans": [[1000.0 + t, 0.5, 0.25] for t in range(3)]}}))


def _soke_ok(seq) -> bool:
    tags = seq.meta.get("smplx", {}).get("cam_trans", np.zeros((0, 3)))[:, 0]
    # If every tag survived, they must be consecutive frames: a skipped one shows as a jump. (Order
    # is not checked: a file renamed to another free number is a well-formed, reordered clip.)
    return not set(tags.tolist()) <= {1000.0, 1001.0, 1002.0} or bool((np.diff(np.sort(tags)) == 1).all())


_TABLE = (lambda r: isinstance(r, list) and all(isinstance(a, ann.Annotation) and _times_ok(a) for a in r))
#: case → (writes the valid files into a folder, reads them from it, is the result sane?)
CASES = {
    "pose": (lambda d: write_pose(d / "c.pose", _seq("xyz_mediapipe")),
             lambda r: pose_to_sequence(read_pose(r / "c.pose")), _is_seq),
    "pose_header": (lambda d: write_pose(d / "c.pose", _seq("xyz_mediapipe")), lambda r: read_pose_header(r / "c.pose"),
                    lambda h: h.components and h.num_dims >= 1),
    "eaf": (_text("a.eaf", EAF), lambda r: (read_eaf(r / "a.eaf"), eaf_segments(r / "a.eaf", "SIGN", 25.0, 40)),
            _eaf_ok),
    "phoenix": (lambda d: ann.write_phoenix_csv(d / "corpus.csv", PHOENIX),
                lambda r: ann.read_phoenix_csv(r / "corpus.csv"), _TABLE),
    "how2sign": (lambda d: ann.write_how2sign_csv(d / "h2s.csv", H2S), lambda r: ann.read_how2sign_csv(r / "h2s.csv"),
                 _TABLE),
    "csl_daily": (lambda d: ann.write_csl_daily(d / "video_map.txt", CSL),
                  lambda r: ann.read_csl_daily(r / "video_map.txt"), _TABLE),
    "lexicon": (_text("index.csv", LEXICON), lambda r: ann.read_lexicon_index(r / "index.csv"), _TABLE),
    "dgs_fluent": (_text("a_metadata.json", json.dumps(DGS_FLUENT)),
                   lambda r: ann.read_dgs_fluent_metadata(r / "a_metadata.json"),
                   lambda a: _times_ok(a) and all(_times_ok(ann.Annotation("", start=s, end=e))
                                                  for s, e in a.extras["gloss_spans"])),
    "segments": (lambda d: write_segments(d / "segments.pt", SEGMENTS), lambda r: read_segments(r / "segments.pt"),
                 lambda m: all(e["segments"].ndim == 2 and (e["segments"][:, 0] < e["segments"][:, 1]).all()
                               for e in m.values())),
    "prompt2sign": (lambda d: write_prompt2sign(d / "dev", SKELS), lambda r: read_prompt2sign(r / "dev", 6),
                    lambda samples: all(s.frames.shape[1:] == (6,) and np.isfinite(s.frames).all() for s in samples)),
    "signspark": (lambda d: write_signspark(d / "c.npz", _seq("rot6d")), lambda r: read_signspark(r / "c.npz"), _is_seq),
    "soke": (_soke_clip, lambda r: read_soke_clip(r / "clip"), _soke_ok),
    "clip": (lambda d: write_clip(d / "c.npz", _seq("xyz_mediapipe")), lambda r: read_clip(r / "c.npz"), _is_seq),
    "pickle0": (lambda d: (d / "p.pkl").write_bytes(pickle.dumps(PICKLED, 0)), lambda r: safe_load(r / "p.pkl"), _any),
    "pickle5": (lambda d: (d / "p.pkl").write_bytes(pickle.dumps(PICKLED, 5)), lambda r: safe_load(r / "p.pkl"), _any),
    "corpus_yaml": (_text("corpus.yaml", yaml.safe_dump(SPEC)), read_spec,
                    lambda s: math.isfinite(s.fps) and s.fps > 0 and isinstance(s.synthetic, dict)),
}
DELIMITERS = {"corpus.csv": "|", "h2s.csv": "\t", "video_map.txt": "|", "index.csv": ","}


@cache
def _valid_files(case: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as d:
        CASES[case][0](Path(d))
        # One unbounded read first: lazy imports and torch's first-call set-up (seconds under
        # tracemalloc) are a one-time cost of the process, not of the reader.
        CASES[case][1](Path(d))
        return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(Path(d).rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- running a reader under the bounds


def _hang(signum, frame):
    raise TimeoutError(f"reader still running after {5 * MAX_SECONDS} s")


def _read(case: str, files: dict[str, bytes]) -> None:
    """Read ``files`` with the case's reader: a sane result, or one SignlibError line naming a file;
    no other exception, no warning, at most MAX_SECONDS and MAX_BYTES."""
    _, read, sane = CASES[case]
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings(record=True) as caught:
        root = Path(d)
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        warnings.simplefilter("always")
        tracemalloc.start()
        # A hang would never come back to be timed: an alarm turns it into a failure (TimeoutError).
        signal.signal(signal.SIGALRM, _hang)
        signal.setitimer(signal.ITIMER_REAL, 5 * MAX_SECONDS)
        start = time.perf_counter()
        try:
            result = read(root)
        except SignlibError as e:
            assert "\n" not in str(e) and str(root) in str(e), str(e)
            result = None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed, (_, peak) = time.perf_counter() - start, tracemalloc.get_traced_memory()
            tracemalloc.stop()
    assert elapsed < MAX_SECONDS, f"{case}: {elapsed:.1f} s"
    assert peak < MAX_BYTES, f"{case}: {peak / 2**20:.0f} MB"
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    assert result is None or sane(result), result
    return result


@pytest.mark.parametrize("case", sorted(CASES))
def test_valid_files_read(case):
    # Guards the fuzz test below: a base file that already failed would make every mutation vacuous.
    assert _read(case, _valid_files(case)) is not None


@pytest.mark.parametrize("case", sorted(CASES))
def test_mutated_files_read_or_fail_with_one_line(case):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutated(_valid_files(case), DELIMITERS))
    def check(files):
        _read(case, files)

    check()
