"""Writing clips with the ffmpeg command-line tool: mp4 (H.264, yuv420p), JPEG frame
folders (00001.jpg ...) and gifs. Raw RGB frames go through a pipe; nothing else is needed."""

import os
import shutil
import subprocess
import tempfile

import numpy as np

_COMMON = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24"]


def _run(frames, fps, tail):
    t, h, w, _ = frames.shape
    cmd = _COMMON + ["-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "-", "-an", "-threads", "1",
                     "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"] + tail
    proc = subprocess.run(cmd, input=frames.tobytes(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({' '.join(tail[-1:])}): {proc.stderr.decode(errors='replace')}")


# No B-frames: every clip then starts at timestamp 0, also when cut from a batch.
H264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
         "-x264-params", "threads=1:bframes=0"]


def write_mp4(frames, fps, path):
    """H.264 in yuv420p, one frame per input frame, single-threaded so bytes are reproducible."""
    _run(frames, fps, H264 + ["-movflags", "+faststart", str(path)])


def write_mp4_batch(clips, fps, paths):
    """Several same-sized clips through one ffmpeg process (its start-up costs more than
    encoding a short clip): the segment muxer cuts at forced key frames, then each piece is
    renamed to its path."""
    if len(clips) == 1:
        write_mp4(clips[0], fps, paths[0])
        return
    cuts = np.cumsum([len(c) for c in clips])[:-1]
    tmp = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(str(paths[0]))), prefix=".batch-")
    try:
        _run(np.concatenate(clips), fps, H264 + [
            "-force_key_frames", "expr:" + "+".join(f"eq(n,{c})" for c in cuts),
            "-f", "segment", "-segment_frames", ",".join(str(c) for c in cuts), "-reset_timestamps", "1",
            "-segment_format", "mp4", "-segment_format_options", "movflags=+faststart",
            os.path.join(tmp, "%06d.mp4")])
        for i, p in enumerate(paths):
            os.replace(os.path.join(tmp, f"{i:06d}.mp4"), str(p))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_frames(frames, fps, folder, quality=3):
    """A folder of JPEGs named with five-digit 1-based indices, as MVBench's frame mode reads."""
    os.makedirs(folder, exist_ok=True)
    _run(frames, fps, ["-c:v", "mjpeg", "-q:v", str(quality), "-pix_fmt", "yuvj420p",
                       "-start_number", "1", "-f", "image2", os.path.join(str(folder), "%05d.jpg")])


def write_gif(frames, fps, path):
    """A looping gif with a palette made for the clip."""
    _run(frames, fps, ["-filter_complex",
                       "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=none",
                       "-loop", "0", "-f", "gif", str(path)])


WRITERS = {"video": (write_mp4, ".mp4"), "frame": (write_frames, ""), "gif": (write_gif, ".gif")}
