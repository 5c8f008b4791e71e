"""verify: JSON keys, exit codes and record lookup, with a fake watermark reader; the CLI rendering."""

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from facecraft.cli.verify_command import run_verify_command
from facecraft.errors import EmptyMediaError, MediaNotFoundError
from facecraft.media.image import write_image
from facecraft.media.writer import FrameWriter
from facecraft.provenance.c2pa import sign_credentials
from facecraft.provenance.identity import local_identity
from facecraft.provenance.payload import WatermarkPayload
from facecraft.provenance.record import InputFile, ProvenanceRecord, new_record, write_record
from facecraft.provenance.verify import (
    VERIFY_KEYS,
    WatermarkReader,
    WatermarkReaderMissingError,
    default_watermark_reader,
    verify,
)


@dataclass(frozen=True, slots=True)
class FakeReading:
    found: bool
    bit_accuracy: float
    payload: WatermarkPayload | None

    def to_json(self) -> dict[str, object]:
        payload = None
        if self.payload is not None:
            payload = {"tag": f"{self.payload.tag:03x}", "record_id": self.payload.record_id_hex}
        return {"found": self.found, "bit_accuracy": self.bit_accuracy, "payload": payload}


def reader_finding(payload: WatermarkPayload | None) -> WatermarkReader:
    def read(path: Path) -> FakeReading:
        assert path.is_file()
        if payload is None:
            return FakeReading(found=False, bit_accuracy=0.53, payload=None)
        return FakeReading(found=True, bit_accuracy=1.0, payload=payload)

    return read


NO_MARK = reader_finding(None)


def photo(path: Path, seed: int = 0) -> Path:
    return write_image(path, np.random.default_rng(seed).integers(0, 256, (48, 64, 3), dtype=np.uint8))


def stored_record(tmp_path: Path, record_id: int) -> ProvenanceRecord:
    return new_record(
        [InputFile("source", "me.jpg", "a" * 64)],
        ["mesh"],
        store_dir=tmp_path / "cfg" / "records",
        record_id=record_id,
    )


def test_watermark_alone_marks_the_file_and_finds_the_record(tmp_path: Path) -> None:
    record = stored_record(tmp_path, 0x1234)
    elsewhere = photo(tmp_path / "original.jpg")
    write_record(record, elsewhere, tmp_path / "cfg" / "records")
    shared = photo(tmp_path / "reencoded.jpg", seed=1)  # no credentials, no record beside it

    report = verify(shared, reader_finding(WatermarkPayload(0x1234)), config_dir=tmp_path / "cfg")
    data = json.loads(json.dumps(report.to_json()))  # serialisable as is
    assert tuple(data) == VERIFY_KEYS
    assert set(data["watermark"]) == {"found", "bit_accuracy", "payload"}
    assert set(data["c2pa"]) == {"present", "state", "claims"}
    assert data["c2pa"] == {"present": False, "state": "absent", "claims": None}
    assert data["record"]["record_id"] == "01234"
    assert report.exit_code == 0


def test_unmarked_file_exits_1_with_null_record(tmp_path: Path) -> None:
    report = verify(photo(tmp_path / "plain.png"), NO_MARK, config_dir=tmp_path / "cfg")
    assert report.exit_code == 1
    assert report.to_json()["record"] is None
    assert report.to_json()["watermark"] == {"found": False, "bit_accuracy": 0.53, "payload": None}


def test_foreign_watermark_tag_is_not_ours(tmp_path: Path) -> None:
    foreign = reader_finding(WatermarkPayload(record_id=3, tag=0x123))
    assert verify(photo(tmp_path / "x.jpg"), foreign, config_dir=tmp_path / "cfg").exit_code == 1


def test_valid_credentials_alone_mark_the_file_and_name_the_record(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    record = stored_record(tmp_path, 0x00BEE)
    output = photo(tmp_path / "out.jpg")
    sign_credentials(output, local_identity(config), record)
    write_record(record, output, config / "records")

    report = verify(output, NO_MARK, config_dir=config)
    assert report.exit_code == 0
    assert report.c2pa.state == "valid"
    assert report.c2pa.claims is not None
    assert report.c2pa.claims.trusted  # this machine's local CA is a trust anchor here
    assert report.record is not None and report.record.record_id == 0x00BEE


def test_record_beside_the_file_is_used_when_the_store_lacks_it(tmp_path: Path) -> None:
    record = stored_record(tmp_path, 0x00777)
    output = photo(tmp_path / "out.jpg")
    write_record(record, output, tmp_path / "other-store")
    report = verify(output, reader_finding(WatermarkPayload(0x00777)), config_dir=tmp_path / "cfg")
    assert report.record is not None and report.record.record_id == 0x00777
    # a record beside the file with another id is not taken for this file's
    wrong = verify(output, reader_finding(WatermarkPayload(0x00778)), config_dir=tmp_path / "cfg")
    assert wrong.record is None


def test_tampered_credentials_without_watermark_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    output = tmp_path / "out.mp4"
    with FrameWriter(output, fps=10, preset="ultrafast") as writer:
        for index in range(6):
            writer.write(np.full((48, 64, 3), 20 * index, np.uint8))
    sign_credentials(output, local_identity(config), stored_record(tmp_path, 5))
    flip_first_frame_byte(output)

    report = verify(output, NO_MARK, config_dir=config)
    assert report.c2pa.state == "tampered"
    assert report.exit_code == 1


def flip_first_frame_byte(path: Path) -> None:
    """Flip a byte inside the top-level mdat box (walking the MP4's boxes; no 64-bit sizes here)."""
    data = bytearray(path.read_bytes())
    offset = 0
    while data[offset + 4 : offset + 8] != b"mdat":
        offset += int.from_bytes(data[offset : offset + 4], "big")
    data[offset + 16] ^= 0xFF
    path.write_bytes(bytes(data))


def test_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFoundError) as missing:
        verify(tmp_path / "nope.mp4", NO_MARK, config_dir=tmp_path)
    assert missing.value.exit_code == 2
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(EmptyMediaError):
        verify(empty, NO_MARK, config_dir=tmp_path)


def test_missing_watermark_module_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_module(name: str) -> object:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr("importlib.import_module", no_module)
    with pytest.raises(WatermarkReaderMissingError):
        default_watermark_reader()


def test_command_prints_exact_json_and_returns_the_exit_code(tmp_path: Path) -> None:
    out = io.StringIO()
    code = run_verify_command(
        photo(tmp_path / "p.jpg"),
        as_json=True,
        console=Console(file=io.StringIO()),
        out=out,
        watermark_reader=reader_finding(WatermarkPayload(9)),
        config_dir=tmp_path / "cfg",
    )
    assert code == 0
    assert list(json.loads(out.getvalue())) == ["watermark", "c2pa", "record"]


def test_command_table_names_the_verdict(tmp_path: Path) -> None:
    console_text = io.StringIO()
    console = Console(file=console_text, width=120, color_system=None)
    code = run_verify_command(
        photo(tmp_path / "p.jpg"),
        as_json=False,
        console=console,
        watermark_reader=NO_MARK,
        config_dir=tmp_path,
    )
    text = console_text.getvalue()
    assert code == 1
    assert "not marked" in text and "watermark" in text and "absent" in text


def test_command_table_shows_credentials_and_record(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    record = stored_record(tmp_path, 0x0C0DE)
    output = photo(tmp_path / "out.png")
    sign_credentials(output, local_identity(config), record)
    write_record(record, output, config / "records")
    console_text = io.StringIO()
    console = Console(file=console_text, width=160, color_system=None)
    code = run_verify_command(
        output,
        as_json=False,
        console=console,
        watermark_reader=reader_finding(WatermarkPayload(0x0C0DE)),
        config_dir=config,
    )
    text = console_text.getvalue()
    assert code == 0
    assert "marked:" in text and "invisible watermark and Content Credentials" in text
    assert "compositeWithTrainedAlgorithmicMedia" in text and "0c0de" in text and "me.jpg" in text
