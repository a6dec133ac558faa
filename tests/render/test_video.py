"""Video files: real H.264 mp4s read back frame by frame, the GIF fallback, atomic writes."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from signlib.errors import SignlibError
from signlib.render import video
from signlib.render.video import read_video, write_video


def ramp(n: int = 12, h: int = 48, w: int = 64) -> list[np.ndarray]:
    return [np.full((h, w, 3), 10 + 18 * i, np.uint8) for i in range(n)]


def test_mp4_is_h264_and_reads_back_every_frame(tmp_path):
    path = write_video(tmp_path / "a.mp4", ramp(), fps=25)
    assert path == tmp_path / "a.mp4"
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                           capture_output=True, text=True).stderr
    assert "Video: h264" in probe and "yuv420p" in probe and "25 fps" in probe
    frames = read_video(path)
    assert frames.shape == (12, 48, 64, 3)
    # lossy, but each flat frame keeps its grey level
    assert np.abs(frames.mean(axis=(1, 2, 3)) - (10 + 18 * np.arange(12))).max() < 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]  # no temporary left behind


def test_odd_sizes_are_padded_to_even(tmp_path):
    frames = read_video(write_video(tmp_path / "odd.mp4", ramp(3, 31, 45)))
    assert frames.shape == (3, 32, 46, 3)


def test_gif_fallback_when_ffmpeg_cannot_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNLIB_VIDEO_FORMAT", "gif")
    video.mp4_available.cache_clear()
    try:
        path = write_video(tmp_path / "b.mp4", ramp(5), fps=10)
    finally:
        monkeypatch.delenv("SIGNLIB_VIDEO_FORMAT")
        video.mp4_available.cache_clear()
    assert path == tmp_path / "b.gif" and not (tmp_path / "b.mp4").exists()
    assert read_video(path).shape == (5, 48, 64, 3)


def test_bad_frames_fail_in_one_line_and_keep_the_previous_video(tmp_path):
    path = write_video(tmp_path / "c.mp4", ramp(4))
    before = path.read_bytes()

    def broken():
        yield from ramp(3)
        yield np.zeros((48, 64, 3), np.float32)  # not uint8

    with pytest.raises(SignlibError, match=r"c\.mp4: frame 3 must be \(H, W, 3\) uint8"):
        write_video(path, broken())
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4"]
    with pytest.raises(SignlibError, match="frame 1 is"):
        write_video(tmp_path / "d.mp4", [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 10, 3), np.uint8)])
    with pytest.raises(SignlibError, match="zero frames"):
        write_video(tmp_path / "e.mp4", [])
    with pytest.raises(SignlibError, match="fps"):
        write_video(tmp_path / "f.mp4", ramp(2), fps=0)
    assert not (tmp_path / "d.mp4").exists() and not (tmp_path / "e.mp4").exists()


def test_reading_a_missing_or_broken_video_names_it(tmp_path):
    with pytest.raises(SignlibError, match="nope.mp4: video not found"):
        read_video(tmp_path / "nope.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(SignlibError, match="junk.mp4: cannot read the video"):
        read_video(tmp_path / "junk.mp4")
