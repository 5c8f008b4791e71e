"""The provenance record: a small JSON file per output saying how facecraft made it.

It holds the tool and version, the record id (the one the invisible watermark carries), the inputs'
file names (never their folders) and SHA-256, the models used, the options and the time (UTC).
It is written twice:

* beside the output, as ``OUT.provenance.json`` (``clip.mp4`` -> ``clip.mp4.provenance.json``), so it
  travels with the file when both are shared;
* in the local store, ``<config dir>/records/<id>.json`` (the id as 5 hex digits), so ``verify`` can
  look up the id read from a watermark even when the output was renamed, re-encoded or shared alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeAlias, get_args

from facecraft import __version__
from facecraft.errors import FacecraftError
from facecraft.media.validate import check_input_file
from facecraft.provenance.identity import resolve_config_dir
from facecraft.provenance.payload import RECORD_ID_BITS, new_record_id

RECORD_SCHEMA = "facecraft.provenance-record/1"
RECORDS_DIR = "records"
RECORD_SUFFIX = ".provenance.json"
TOOL_NAME = "facecraft"
_HASH_CHUNK_BYTES = 1 << 20
_MAX_ID_TRIES = 256

InputRole = Literal["source", "target", "input"]
"""What an input was: the photo of the person swapped in, the video/image edited, or other."""
INPUT_ROLES: tuple[InputRole, ...] = get_args(InputRole)

JsonScalar: TypeAlias = str | int | float | bool | None


class RecordError(FacecraftError):
    """A provenance record cannot be written or read."""


@dataclass(frozen=True, slots=True)
class InputFile:
    role: InputRole
    name: str
    sha256: str

    def __post_init__(self) -> None:
        if self.role not in INPUT_ROLES:
            raise ValueError(f"role must be one of {INPUT_ROLES}, got {self.role!r}")
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, got {self.sha256!r}")

    @classmethod
    def from_path(cls, path: Path | str, role: InputRole) -> InputFile:
        """Hash the file; only its name is kept (folders can name people or machines)."""
        path = check_input_file(path)
        return cls(role=role, name=path.name, sha256=sha256_file(path))

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "name": self.name, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class ProvenanceRecord:
    record_id: int
    inputs: tuple[InputFile, ...]
    models: tuple[str, ...]
    created_utc: str
    options: Mapping[str, JsonScalar] = field(default_factory=dict)
    output_name: str | None = None
    tool: str = TOOL_NAME
    version: str = __version__

    def __post_init__(self) -> None:
        if not 0 <= self.record_id < (1 << RECORD_ID_BITS):
            raise ValueError(f"record_id must fit in {RECORD_ID_BITS} bits, got {self.record_id}")

    @property
    def record_id_hex(self) -> str:
        return format_record_id(self.record_id)

    def to_json(self) -> dict[str, object]:
        return {
            "schema": RECORD_SCHEMA,
            "tool": self.tool,
            "version": self.version,
            "record_id": self.record_id_hex,
            "output": self.output_name,
            "created_utc": self.created_utc,
            "inputs": [item.to_json() for item in self.inputs],
            "models": list(self.models),
            "options": dict(self.options),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ProvenanceRecord:
        """Parse :meth:`to_json`'s layout; ValueError (or KeyError/TypeError) when it does not fit."""
        if data.get("schema") != RECORD_SCHEMA:
            raise ValueError(f"unknown schema {data.get('schema')!r}, expected {RECORD_SCHEMA!r}")
        inputs = _list(data["inputs"])
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise TypeError("options must be an object")
        output = data.get("output")
        return cls(
            record_id=parse_record_id(_str(data["record_id"])),
            inputs=tuple(_input_from_json(item) for item in inputs),
            models=tuple(_str(model) for model in _list(data["models"])),
            created_utc=_str(data["created_utc"]),
            options={str(k): _scalar(v) for k, v in options.items()},
            output_name=None if output is None else _str(output),
            tool=_str(data["tool"]),
            version=_str(data["version"]),
        )


def new_record(
    inputs: Sequence[InputFile],
    models: Sequence[str],
    options: Mapping[str, JsonScalar] | None = None,
    *,
    store_dir: Path | None = None,
    record_id: int | None = None,
    now: dt.datetime | None = None,
) -> ProvenanceRecord:
    """A record for a new output; its id is random and not yet used in the store."""
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return ProvenanceRecord(
        record_id=record_id if record_id is not None else unused_record_id(store_dir),
        inputs=tuple(inputs),
        models=tuple(models),
        created_utc=created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        options=dict(options or {}),
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def default_store_dir(config_dir: Path | None = None) -> Path:
    return resolve_config_dir(config_dir) / RECORDS_DIR


def unused_record_id(store_dir: Path | None = None) -> int:
    """A random 20-bit id with no record in the store yet (ids are short, so collisions are real)."""
    store = store_dir if store_dir is not None else default_store_dir()
    for _ in range(_MAX_ID_TRIES):
        record_id = new_record_id()
        if not _store_path(store, record_id).exists():
            return record_id
    raise RecordError(
        f"could not find a free record id in '{store}' after {_MAX_ID_TRIES} tries; "
        "the store is nearly full: archive old records elsewhere."
    )


def format_record_id(record_id: int) -> str:
    return f"{record_id:05x}"


def parse_record_id(text: str) -> int:
    """``"0abcd"`` -> 43981; ValueError when it is not 1-5 hex digits."""
    if not 1 <= len(text) <= 5 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise ValueError(f"a record id is 5 hex digits, got {text!r}")
    return int(text, 16)


def record_path_for(output: Path) -> Path:
    """Where the record beside ``output`` lives: ``clip.mp4`` -> ``clip.mp4.provenance.json``."""
    return output.with_name(output.name + RECORD_SUFFIX)


def write_record(record: ProvenanceRecord, output: Path, store_dir: Path | None = None) -> tuple[Path, Path]:
    """Write the record beside ``output`` and into the store; returns both paths."""
    record = replace(record, output_name=output.name)
    text = json.dumps(record.to_json(), indent=2) + "\n"
    beside = record_path_for(output)
    _write_text(beside, text)
    store = store_dir if store_dir is not None else default_store_dir()
    stored = _store_path(store, record.record_id)
    try:
        store.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RecordError(f"cannot create the record store '{store}' ({error}).") from error
    _write_text(stored, text)
    return beside, stored


def read_record(path: Path) -> ProvenanceRecord:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return ProvenanceRecord.from_json(data)
    except OSError as error:
        raise RecordError(f"cannot read the provenance record '{path}' ({error}).") from error
    except (ValueError, KeyError, TypeError) as error:
        raise RecordError(
            f"'{path}' is not a facecraft provenance record ({error}). Move it aside if it is damaged."
        ) from error


def lookup_record(record_id: int | str, store_dir: Path | None = None) -> ProvenanceRecord | None:
    """The stored record with this id (int or 5 hex digits), or None when the store has none."""
    number = parse_record_id(record_id) if isinstance(record_id, str) else record_id
    store = store_dir if store_dir is not None else default_store_dir()
    path = _store_path(store, number)
    if not path.is_file():
        return None
    record = read_record(path)
    if record.record_id != number:
        raise RecordError(f"'{path}' holds record {record.record_id_hex}, not {format_record_id(number)}.")
    return record


class RecordStep:
    """Output step: writes the provenance record beside the output and into the local store."""

    def __init__(self, record: ProvenanceRecord, store_dir: Path | None = None) -> None:
        self.record = record
        self.store_dir = store_dir

    def finish(self, output: Path) -> list[str]:
        write_record(self.record, output, self.store_dir)
        return []


def _store_path(store: Path, record_id: int) -> Path:
    return store / f"{format_record_id(record_id)}.json"


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise RecordError(
            f"cannot write the provenance record '{path}' ({error}). Check the folder is writable."
        ) from error


def _input_from_json(item: object) -> InputFile:
    if not isinstance(item, dict):
        raise TypeError("each input must be an object")
    return InputFile(role=_role(item["role"]), name=_str(item["name"]), sha256=_str(item["sha256"]))


def _role(value: object) -> InputRole:
    for role in INPUT_ROLES:
        if value == role:
            return role
    raise ValueError(f"unknown input role {value!r}; expected one of {INPUT_ROLES}")


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _scalar(value: object) -> JsonScalar:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"options hold plain values only, got {type(value).__name__}")
