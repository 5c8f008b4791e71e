"""C2PA signing and reading on small synthetic outputs: JPEG, PNG, MP4 (no audio), MOV, WebM sidecar."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from facecraft.errors import CorruptMediaError, MediaNotFoundError
from facecraft.media.image import write_image
from facecraft.media.writer import FrameWriter, VideoCodec
from facecraft.provenance.c2pa import (
    COMPOSITE_SOURCE_TYPE,
    C2paSignStep,
    build_manifest,
    read_credentials,
    sidecar_path,
    sign_credentials,
)
from facecraft.provenance.identity import SigningIdentity, local_identity
from facecraft.provenance.record import InputFile, ProvenanceRecord, new_record, sha256_file

SOURCE_SHA = "a" * 64
TARGET_SHA = "b" * 64


@pytest.fixture
def identity(tmp_path: Path) -> SigningIdentity:
    return local_identity(tmp_path / "config")


@pytest.fixture
def record(tmp_path: Path) -> ProvenanceRecord:
    inputs = [InputFile("source", "me.jpg", SOURCE_SHA), InputFile("target", "clip.mp4", TARGET_SHA)]
    return new_record(inputs, ["mesh", "face-landmarker"], {"blend": "multiband"}, store_dir=tmp_path / "rec")


def noise_frame(seed: int, size_wh: tuple[int, int] = (64, 48)) -> np.ndarray:
    width, height = size_wh
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def make_video(path: Path, codec: VideoCodec = "h264", frames: int = 8) -> Path:
    with FrameWriter(path, fps=10, codec=codec, preset="ultrafast") as writer:
        for index in range(frames):
            writer.write(noise_frame(index))
    return path


def flip_byte_in_mdat(path: Path) -> None:
    """Flip one byte in the middle of the MP4's media data (the frames), leaving the manifest alone."""
    data = bytearray(path.read_bytes())
    offset = 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = bytes(data[offset + 4 : offset + 8])
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[offset + 8 : offset + 16], "big"), 16
        if kind == b"mdat":
            data[offset + header + (size - header) // 2] ^= 0xFF
            path.write_bytes(bytes(data))
            return
        offset += size
    raise AssertionError(f"no mdat box in {path}")


@pytest.mark.parametrize("name", ["out.jpg", "out.png"])
def test_signed_still_reads_back_valid_with_claims(
    tmp_path: Path, identity: SigningIdentity, record: ProvenanceRecord, name: str
) -> None:
    path = write_image(tmp_path / name, noise_frame(1))
    result = sign_credentials(path, identity, record)
    assert result.sidecar is None and result.notes == ()

    reading = read_credentials(path)
    assert reading.present and reading.state == "valid"
    claims = reading.claims
    assert claims is not None
    assert claims.by_facecraft and claims.embedded and not claims.trusted
    assert claims.digital_source_type == COMPOSITE_SOURCE_TYPE
    assert claims.actions == ("c2pa.opened", "c2pa.placed", "c2pa.edited")
    assert claims.record_id == record.record_id_hex
    assert claims.models == ("mesh", "face-landmarker")
    assert [(i["role"], i["name"], i["sha256"]) for i in claims.ingredients] == [
        ("source", "me.jpg", SOURCE_SHA),
        ("target", "clip.mp4", TARGET_SHA),
    ]
    assert reading.valid_from_facecraft
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", name]  # no temporary files left


def test_local_ca_as_trust_anchor_makes_it_trusted(
    tmp_path: Path, identity: SigningIdentity, record: ProvenanceRecord
) -> None:
    path = write_image(tmp_path / "out.jpg", noise_frame(2))
    sign_credentials(path, identity, record)
    reading = read_credentials(path, trust_anchor_pem=identity.trust_anchor_pem)
    assert reading.state == "valid"
    assert reading.claims is not None and reading.claims.trusted


def test_signed_mp4_without_audio_is_valid_and_a_flipped_frame_byte_is_tampered(
    tmp_path: Path, identity: SigningIdentity, record: ProvenanceRecord
) -> None:
    path = make_video(tmp_path / "out.mp4")
    sign_credentials(path, identity, record)
    reading = read_credentials(path)
    assert reading.state == "valid"
    assert reading.to_json()["present"] is True

    flip_byte_in_mdat(path)
    tampered = read_credentials(path)
    assert tampered.present and tampered.state == "tampered"
    assert tampered.claims is not None and "assertion.bmffHash.mismatch" in tampered.claims.problems
    assert not tampered.valid_from_facecraft


def test_mov_is_signed_inside(tmp_path: Path, identity: SigningIdentity, record: ProvenanceRecord) -> None:
    path = make_video(tmp_path / "out.mov", frames=4)
    assert sign_credentials(path, identity, record).sidecar is None
    assert read_credentials(path).state == "valid"


def test_tampered_jpeg_pixels_read_as_tampered(
    tmp_path: Path, identity: SigningIdentity, record: ProvenanceRecord
) -> None:
    path = write_image(tmp_path / "out.jpg", noise_frame(3))
    sign_credentials(path, identity, record)
    data = bytearray(path.read_bytes())
    data[-40] ^= 0x01  # inside the entropy-coded scan, before the end-of-image marker
    path.write_bytes(bytes(data))
    assert read_credentials(path).state == "tampered"


def test_webm_gets_a_sidecar_and_a_note(
    tmp_path: Path, identity: SigningIdentity, record: ProvenanceRecord
) -> None:
    path = make_video(tmp_path / "out.webm", codec="vp9", frames=3)
    before = sha256_file(path)
    notes = C2paSignStep(identity, record).finish(path)

    sidecar = sidecar_path(path)
    assert sidecar.name == "out.webm.c2pa" and sidecar.stat().st_size > 0
    assert len(notes) == 1 and "out.webm.c2pa" in notes[0]
    assert sha256_file(path) == before  # the video itself is untouched
    reading = read_credentials(path)
    assert reading.state == "valid"
    assert reading.claims is not None and not reading.claims.embedded and reading.claims.by_facecraft

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert read_credentials(path).state == "tampered"


def test_step_for_embeddable_output_has_no_notes(
    tmp_path: Path, identity: SigningIdentity, record: ProvenanceRecord
) -> None:
    path = write_image(tmp_path / "out.png", noise_frame(4))
    assert C2paSignStep(identity, record).finish(path) == []
    assert read_credentials(path).state == "valid"


def test_unsigned_file_is_absent(tmp_path: Path) -> None:
    path = write_image(tmp_path / "plain.jpg", noise_frame(5))
    reading = read_credentials(path)
    assert reading.to_json() == {"present": False, "state": "absent", "claims": None}
    webm = make_video(tmp_path / "plain.webm", codec="vp9", frames=2)
    assert read_credentials(webm).state == "absent"


def test_output_without_target_is_created_not_edited(tmp_path: Path, identity: SigningIdentity) -> None:
    record = new_record([InputFile("source", "me.jpg", SOURCE_SHA)], ["mesh"], store_dir=tmp_path / "rec")
    manifest = build_manifest(record, title="out.jpg", mime="image/jpeg")
    assertions = manifest["assertions"]
    assert isinstance(assertions, list)
    actions = assertions[0]["data"]["actions"]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == COMPOSITE_SOURCE_TYPE

    path = write_image(tmp_path / "out.jpg", noise_frame(6))
    sign_credentials(path, identity, record)
    reading = read_credentials(path)
    assert reading.state == "valid"
    assert reading.claims is not None and reading.claims.actions[0] == "c2pa.created"


def test_missing_output_raises_typed_error(
    identity: SigningIdentity, record: ProvenanceRecord, tmp_path: Path
) -> None:
    with pytest.raises(MediaNotFoundError):
        sign_credentials(tmp_path / "nope.mp4", identity, record)
    with pytest.raises(MediaNotFoundError):
        read_credentials(tmp_path / "nope.mp4")


@pytest.mark.media
def test_real_clip_with_audio_signs_valid(
    media_dir: Path, tmp_path: Path, identity: SigningIdentity, record: ProvenanceRecord
) -> None:
    path = tmp_path / "real.mp4"
    shutil.copyfile(media_dir / "videos" / "d18.mp4", path)
    sign_credentials(path, identity, record)
    assert read_credentials(path).state == "valid"
    flip_byte_in_mdat(path)
    assert read_credentials(path).state == "tampered"


def test_unparseable_file_without_credentials_is_corrupt_media(tmp_path: Path) -> None:
    path = tmp_path / "not-a-video.mp4"
    path.write_bytes(b"hello, this is not an mp4 file at all")
    with pytest.raises(CorruptMediaError):
        read_credentials(path)


def test_damaged_sidecar_reads_as_invalid(tmp_path: Path) -> None:
    path = make_video(tmp_path / "out.webm", codec="vp9", frames=2)
    sidecar_path(path).write_bytes(b"not a manifest store")
    reading = read_credentials(path)
    assert reading.present and reading.state == "invalid"
    assert reading.claims is not None and not reading.claims.embedded and reading.claims.problems
