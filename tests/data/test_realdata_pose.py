"""Every real ``.pose``/``.poseheader`` sample reads, with the shapes and fps its MANIFEST states.

Skipped when the real-data folder (``<repo>/../shared/realdata`` or ``$SIGNLIB_REALDATA``) is absent.
"""

from pathlib import Path

import numpy as np
import pytest

from signlib.data.formats.pose_file import pose_to_sequence, read_pose, read_pose_header
from signlib.data.formats.pose_writer import write_pose

pytestmark = pytest.mark.realdata

# (glob under realdata, file count, version, fps range, frame range, points, dims)
EXPECTED = [
    ("dgs_fluent_sentences/*/*_original.pose", 32, 0.2, (25, 25), (20, 152), 178, 3),
    # MANIFEST says 27–369 frames; train_13_updated.pose has 20 (no gloss of it is in DGS-Types).
    ("dgs_fluent_sentences/*/*_updated.pose", 32, 0.2, (25, 25), (20, 369), 178, 3),
    ("dgs_fluent_example/sentence.pose", 1, 0.1, (50, 50), (125, 125), 576, 3),
    ("dgs_fluent_example/types/*.pose", 6, 0.1, (50, 50), (108, 139), 576, 3),
    ("dgs_fluent_example/stitched.pose", 1, 0.1, (50, 50), (565, 565), 178, 3),
    ("phoenix14t_sample/*.pose", 1, 0.1, (25, 25), (86, 86), 543, 3),
    ("signsuisse_dummy_lexicon/sgg/*.pose", 4, 0.1, (24, 25), (45, 73), 178, 3),
    ("fingerspelling_lexicon/ase/*.pose", 26, 0.2, (25, 25), (20, 33), 586, 3),
    ("format_fixtures/segmentation_example_v0.2.pose", 1, 0.2, (30, 30), (130, 130), 576, 3),
    ("format_fixtures/openpose_v0.0.pose", 1, 0.0, (24, 24), (93, 93), 137, 2),
    ("format_fixtures/mediapipe_reduced_v0.1.pose", 1, 0.1, (24, 24), (170, 170), 178, 3),
    ("format_fixtures/autsl_signer0_sample1000_v0.1_XYZKC.pose", 1, 0.1, (30, 30), (43, 43), 543, 4),
]
HEADERS = [("format_fixtures/dgs_corpus_holistic.poseheader", 0.1, 543, 3)]


def _files(root: Path, pattern: str, count: int) -> list[Path]:
    files = sorted(root.glob(pattern))
    assert len(files) == count, f"{pattern}: expected {count} files, found {len(files)}"
    return files


def test_every_pose_file_is_in_the_table(realdata_dir):
    listed = {p for row in EXPECTED for p in realdata_dir.glob(row[0])}
    listed |= {realdata_dir / row[0] for row in HEADERS}
    found = set(realdata_dir.rglob("*.pose")) | set(realdata_dir.rglob("*.poseheader"))
    assert found == listed, f"not in EXPECTED: {sorted(map(str, found - listed))}"


@pytest.mark.parametrize("pattern, count, version, fps, frames, points, dims", EXPECTED,
                         ids=[row[0] for row in EXPECTED])
def test_real_pose_files_read_with_manifest_shapes(realdata_dir, pattern, count, version, fps, frames,
                                                   points, dims):
    for path in _files(realdata_dir, pattern, count):
        pf = read_pose(path)
        T = pf.num_frames
        assert pf.version == version and fps[0] <= pf.fps <= fps[1] and frames[0] <= T <= frames[1], path
        assert pf.data.shape == (T, 1, points, dims) and pf.confidence.shape == (T, 1, points)
        assert pf.data.dtype == np.float32 and pf.num_points == points and pf.num_dims == dims
        assert read_pose_header(path) == pf.header


@pytest.mark.parametrize("pattern, count, version, fps, frames, points, dims", EXPECTED,
                         ids=[row[0] for row in EXPECTED])
def test_real_pose_files_become_sequences(realdata_dir, pattern, count, version, fps, frames, points, dims):
    for path in _files(realdata_dir, pattern, count):
        pf = read_pose(path)
        seq = pose_to_sequence(pf, language="DGS")
        assert seq.layout == "xyz_mediapipe" and seq.features.shape == (pf.num_frames, 49 * 3)
        assert seq.fps == pf.fps and seq.id == path.stem and np.isfinite(seq.features).all()
        assert seq.valid[:, 1:7].any(), f"{path}: no shoulder, elbow or wrist observed"
        assert seq.valid[:, 7:].any(), f"{path}: no hand observed"
        if points == 178:  # pose-format's reduce_holistic drops the nose
            assert not seq.valid[:, 0].any() and seq.meta["missing_points"] == ("nose",)
        if dims == 2:  # OpenPose: z is filled with 0
            assert (seq.get_layout().unflatten(seq.features)[..., 2] == 0).all()


@pytest.mark.parametrize("pattern", [row[0] for row in EXPECTED])
def test_real_sequences_survive_a_write_read_round_trip(realdata_dir, tmp_path, pattern):
    path = sorted(realdata_dir.glob(pattern))[0]
    seq = pose_to_sequence(read_pose(path))
    write_pose(tmp_path / "copy.pose", seq)
    back = pose_to_sequence(read_pose(tmp_path / "copy.pose"))
    assert back.fps == seq.fps
    np.testing.assert_array_equal(back.valid, seq.valid)
    np.testing.assert_array_equal(back.features, seq.features)


@pytest.mark.parametrize("name, version, points, dims", HEADERS)
def test_header_only_files_read(realdata_dir, name, version, points, dims):
    header = read_pose_header(realdata_dir / name)
    assert header.version == version and header.num_points == points and header.num_dims == dims
    assert [c.name for c in header.components] == ["POSE_LANDMARKS", "FACE_LANDMARKS",
                                                   "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
