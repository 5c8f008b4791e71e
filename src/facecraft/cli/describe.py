"""What ``facecraft probe`` shows: a JSON-ready description of a video or a still image."""

from pathlib import Path

from facecraft.media.image import read_image
from facecraft.media.probe import VideoInfo, is_image_path, probe


def describe_media(path: Path) -> dict[str, object]:
    """Size, rotation, rate, length, codecs and audio of a video; size of an image."""
    if is_image_path(path):
        height, width = read_image(path).shape[:2]
        return {"path": str(path), "kind": "image", "width": width, "height": height}
    return describe_video(probe(path))


def describe_video(info: VideoInfo) -> dict[str, object]:
    display_w, display_h = info.display_wh
    return {
        "path": str(info.path),
        "kind": "video",
        "width": info.width,
        "height": info.height,
        "rotation_deg": info.rotation_deg,
        "display_wh": [display_w, display_h],
        "fps": round(float(info.fps), 4),
        "is_variable_frame_rate": info.is_variable_frame_rate,
        "frame_count": info.frame_count,
        "frame_count_is_exact": info.frame_count_is_exact,
        "duration_s": round(info.duration_s, 4),
        "codec": info.codec,
        "pixel_format": info.pixel_format,
        "audio_streams": [
            {"codec": a.codec, "sample_rate": a.sample_rate, "channels": a.channels}
            for a in info.audio_streams
        ],
    }
