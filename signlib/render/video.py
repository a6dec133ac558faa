"""Writing frames to video files: H.264 mp4 through imageio's ffmpeg plugin, GIF as the fallback.

The ``imageio-ffmpeg`` wheel ships an ffmpeg binary, so mp4 works on a fresh machine without a
system ffmpeg. Where that binary cannot run (an unusual platform), :func:`write_video` writes an
animated GIF beside the requested name instead and says so. Videos are written **atomically**: into a
hidden ``.partial/`` subfolder of the target's folder (same file system, and a ``*.mp4`` glob of
the folder never sees a half-written video), then renamed over the target; an interrupted write
leaves the previous video in place.

Frames are ``(H, W, 3)`` uint8 RGB; odd sizes are padded by one pixel with the frame's corner
colour, because H.264 in the widely playable yuv420p format needs even dimensions.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from signlib.errors import SignlibError, file_error


@functools.lru_cache(maxsize=1)
def mp4_available() -> bool:
    """Whether the ffmpeg binary of ``imageio-ffmpeg`` is present and runs here."""
    if os.environ.get("SIGNLIB_VIDEO_FORMAT", "").lower() == "gif":  # to test the fallback
        return False
    try:
        import subprocess

        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        return subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, timeout=20).returncode == 0
    except Exception:  # a missing package or binary means: no mp4 here
        return False


def _even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _checked(frames: Iterable[np.ndarray], path: Path):
    shape = None
    for k, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise file_error(path, f"frame {k} must be (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
        if shape is None:
            shape = frame.shape
        elif frame.shape != shape:
            raise file_error(path, f"frame {k} is {frame.shape}, but the first frame is {shape}")
        yield _even(frame)


def write_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float = 25.0,
                quality: int = 7) -> Path:
    """Write ``frames`` to ``path`` (``.mp4``; a ``.gif`` beside it where mp4 is unavailable).

    Args:
        frames: iterable of ``(H, W, 3)`` uint8 RGB arrays (consumed once; may be a generator).
        fps: frames per second.
        quality: imageio's 0–10 quality scale for H.264 (7: visually clean, small files).
    Returns:
        The path written (``.mp4`` or the ``.gif`` fallback).
    """
    import imageio.v2 as imageio

    target = Path(path)
    if not fps > 0:
        raise file_error(target, f"fps must be positive, got {fps}")
    target.parent.mkdir(parents=True, exist_ok=True)
    use_mp4 = mp4_available()
    if not use_mp4:
        target = target.with_suffix(".gif")
        print(f"no working ffmpeg: writing {target.name} (GIF) instead of an mp4")
    # imageio picks its writer by the extension, so the temporary file keeps it, one folder down.
    tmp = target.parent / ".partial" / f"{os.getpid()}-{target.name}"
    tmp.parent.mkdir(exist_ok=True)
    count = 0
    try:
        if use_mp4:
            writer = imageio.get_writer(tmp, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=quality,
                                        pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error",
                                        output_params=["-movflags", "+faststart"])
        else:
            writer = imageio.get_writer(tmp, format="GIF", mode="I", duration=1000.0 / fps, loop=0)
        with writer:
            for frame in _checked(frames, target):
                writer.append_data(frame)
                count += 1
        if count == 0:
            raise file_error(target, "no frames to write (the clip has zero frames)")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
        try:
            tmp.parent.rmdir()
        except OSError:  # another writer's file is still there
            pass
    return target


def read_video(path: str | os.PathLike) -> np.ndarray:
    """All frames of a video as ``(T, H, W, 3)`` uint8 (for tests and notebooks)."""
    import imageio.v2 as imageio

    p = Path(path)
    if not p.is_file():
        raise file_error(p, "video not found")
    try:
        frames = [np.asarray(f)[..., :3] for f in imageio.get_reader(p, format="FFMPEG" if p.suffix == ".mp4" else "GIF")]
    except Exception as exc:  # any decoder failure becomes one line naming the file
        raise file_error(p, f"cannot read the video ({type(exc).__name__}: {exc})") from None
    if not frames:
        raise SignlibError(f"{p}: the video has no frames")
    return np.stack(frames)
