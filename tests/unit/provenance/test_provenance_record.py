"""Provenance records: hashing inputs, writing beside the output and into the store, lookup by id."""

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from facecraft.provenance import record as record_module
from facecraft.provenance.record import (
    RECORD_SCHEMA,
    InputFile,
    ProvenanceRecord,
    RecordError,
    RecordStep,
    default_store_dir,
    lookup_record,
    new_record,
    record_path_for,
    unused_record_id,
    write_record,
)


def make_record(tmp_path: Path, record_id: int | None = None) -> ProvenanceRecord:
    photo = tmp_path / "inputs" / "me.jpg"
    photo.parent.mkdir(exist_ok=True)
    photo.write_bytes(b"a photo of me")
    return new_record(
        [InputFile.from_path(photo, "source"), InputFile("target", "clip.mp4", "0" * 64)],
        ["mesh"],
        {"blend": "multiband", "crf": 18, "start_s": None},
        store_dir=tmp_path / "store",
        record_id=record_id,
        now=dt.datetime(2026, 8, 2, 12, 30, tzinfo=dt.UTC),
    )


def test_inputs_are_hashed_and_named_without_their_folder(tmp_path: Path) -> None:
    record = make_record(tmp_path)
    source = record.inputs[0]
    assert source.name == "me.jpg"
    assert source.sha256 == hashlib.sha256(b"a photo of me").hexdigest()
    assert record.created_utc == "2026-08-02T12:30:00Z"
    assert record.tool == "facecraft"


def test_record_is_written_beside_the_output_and_in_the_store(tmp_path: Path) -> None:
    record = make_record(tmp_path, record_id=0xABCD)
    output = tmp_path / "out.mp4"
    output.write_bytes(b"video")
    beside, stored = write_record(record, output, tmp_path / "store")

    assert beside == record_path_for(output) == tmp_path / "out.mp4.provenance.json"
    assert stored == tmp_path / "store" / "0abcd.json"
    data = json.loads(beside.read_text())
    assert data == json.loads(stored.read_text())
    assert data["schema"] == RECORD_SCHEMA
    assert data["record_id"] == "0abcd" and data["output"] == "out.mp4"
    assert data["inputs"][0] == {"role": "source", "name": "me.jpg", "sha256": record.inputs[0].sha256}
    assert data["models"] == ["mesh"] and data["options"]["crf"] == 18

    found = lookup_record(0xABCD, tmp_path / "store")
    assert found is not None and found.record_id == 0xABCD and found.output_name == "out.mp4"
    assert lookup_record("0abcd", tmp_path / "store") == found
    assert found.inputs == record.inputs and found.options == record.options
    assert lookup_record(0x12345, tmp_path / "store") is None


def test_record_step_writes_both(tmp_path: Path) -> None:
    record = make_record(tmp_path, record_id=7)
    output = tmp_path / "out.jpg"
    output.write_bytes(b"jpeg")
    assert RecordStep(record, tmp_path / "store").finish(output) == []
    assert (tmp_path / "out.jpg.provenance.json").is_file()
    assert lookup_record(7, tmp_path / "store") is not None


def test_damaged_store_entry_raises_record_error(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "00007.json").write_text("{not json")
    with pytest.raises(RecordError, match="not a facecraft provenance record"):
        lookup_record(7, store)


def test_round_trip_and_bad_schema(tmp_path: Path) -> None:
    record = make_record(tmp_path)
    assert ProvenanceRecord.from_json(record.to_json()) == record
    with pytest.raises(ValueError, match="schema"):
        ProvenanceRecord.from_json({**record.to_json(), "schema": "other/9"})


def test_new_ids_skip_ids_already_in_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "00005.json").write_text("{}")
    ids: Iterator[int] = iter([5, 5, 9])
    monkeypatch.setattr(record_module, "new_record_id", lambda: next(ids))
    assert unused_record_id(store) == 9


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError, match="role"):
        InputFile("sauce", "a.jpg", "0" * 64)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sha256"):
        InputFile("source", "a.jpg", "xyz")
    with pytest.raises(ValueError, match="20 bits"):
        ProvenanceRecord(record_id=1 << 20, inputs=(), models=(), created_utc="2026-01-01T00:00:00Z")


def test_store_dir_follows_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_store_dir(tmp_path) == tmp_path / "records"
    monkeypatch.delenv("FACECRAFT_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_store_dir() == tmp_path / "xdg" / "facecraft" / "records"
