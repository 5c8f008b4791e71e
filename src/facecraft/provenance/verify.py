"""``verify``: does a file carry facecraft's marks? The watermark, the Content Credentials, the record.

:func:`verify` reads the invisible watermark (through a reader that is passed in; by default
``facecraft.provenance.watermark.detect_watermark``), the C2PA credentials (embedded or in a sidecar)
and, when either names a provenance record id, that record from the local store (or from the
``OUT.provenance.json`` beside the file, when its id matches).

The file is *marked as ours* when the watermark is found with facecraft's tag, or when it carries
valid credentials whose claim generator is facecraft. :attr:`VerifyReport.exit_code` is 0 then and 1
otherwise; errors (a missing, empty or unreadable file) raise typed FacecraftErrors, which the CLI
maps to exit code 2.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from facecraft.errors import FacecraftError
from facecraft.media.validate import check_input_file
from facecraft.provenance.c2pa import C2paReading, read_credentials
from facecraft.provenance.identity import local_trust_anchor
from facecraft.provenance.payload import WatermarkPayload
from facecraft.provenance.record import (
    ProvenanceRecord,
    RecordError,
    default_store_dir,
    lookup_record,
    parse_record_id,
    read_record,
    record_path_for,
)

EXIT_MARKED = 0
EXIT_NOT_MARKED = 1
VERIFY_KEYS = ("watermark", "c2pa", "record")
_WATERMARK_MODULE = "facecraft.provenance.watermark"


class WatermarkResult(Protocol):
    """What a watermark reader returns (``watermark.WatermarkReading`` fits it)."""

    @property
    def found(self) -> bool: ...

    @property
    def bit_accuracy(self) -> float: ...

    @property
    def payload(self) -> WatermarkPayload | None: ...

    def to_json(self) -> Mapping[str, object]: ...


WatermarkReader = Callable[[Path], WatermarkResult]


class WatermarkReaderMissingError(FacecraftError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the watermark reader is not available ({detail}). "
            "Reinstall facecraft: pip install -e . (the reader is part of facecraft.provenance.watermark)."
        )


@dataclass(frozen=True, slots=True)
class VerifyReport:
    path: Path
    watermark: WatermarkResult
    c2pa: C2paReading
    record: ProvenanceRecord | None

    @property
    def watermark_is_ours(self) -> bool:
        payload = self.watermark.payload
        return self.watermark.found and payload is not None and payload.is_facecraft

    @property
    def marked(self) -> bool:
        """Marked as made by facecraft: our watermark, or valid credentials from facecraft."""
        return self.watermark_is_ours or self.c2pa.valid_from_facecraft

    @property
    def exit_code(self) -> int:
        return EXIT_MARKED if self.marked else EXIT_NOT_MARKED

    def to_json(self) -> dict[str, object]:
        """Exactly the keys ``watermark``, ``c2pa`` and ``record``.

        ``watermark``: found, bit_accuracy, payload; ``c2pa``: present, state, claims; ``record``: the
        record as a dict when it is known, else None.
        """
        return {
            "watermark": dict(self.watermark.to_json()),
            "c2pa": self.c2pa.to_json(),
            "record": None if self.record is None else self.record.to_json(),
        }


def verify(
    path: Path | str,
    watermark_reader: WatermarkReader | None = None,
    store_dir: Path | None = None,
    config_dir: Path | None = None,
) -> VerifyReport:
    """Check ``path`` for facecraft's watermark, credentials and record.

    ``store_dir`` defaults to the record store under ``config_dir`` (itself the user's config dir by
    default); the local CA there, if any, is trusted when validating credentials.
    """
    path = check_input_file(path)
    reader = watermark_reader if watermark_reader is not None else default_watermark_reader()
    watermark = reader(path)
    c2pa = read_credentials(path, trust_anchor_pem=local_trust_anchor(config_dir))
    store = store_dir if store_dir is not None else default_store_dir(config_dir)
    record = find_record(path, _record_ids(watermark, c2pa), store)
    return VerifyReport(path=path, watermark=watermark, c2pa=c2pa, record=record)


def default_watermark_reader() -> WatermarkReader:
    """``facecraft.provenance.watermark.detect_watermark``, imported only when verify runs."""
    try:
        module = importlib.import_module(_WATERMARK_MODULE)
    except ImportError as error:
        raise WatermarkReaderMissingError(str(error)) from error
    reader = getattr(module, "detect_watermark", None)
    if not callable(reader):
        raise WatermarkReaderMissingError(f"{_WATERMARK_MODULE} has no detect_watermark")
    return cast(WatermarkReader, reader)


def find_record(path: Path, record_ids: list[int], store_dir: Path) -> ProvenanceRecord | None:
    """The first record found for these ids: in the store, else beside the file when its id matches."""
    for record_id in record_ids:
        record = lookup_record(record_id, store_dir)
        if record is not None:
            return record
    beside = record_path_for(path)
    if record_ids and beside.is_file():
        try:
            record = read_record(beside)
        except RecordError:
            return None
        if record.record_id in record_ids:
            return record
    return None


def _record_ids(watermark: WatermarkResult, c2pa: C2paReading) -> list[int]:
    """Record ids named by our watermark, then by readable credentials (valid or tampered)."""
    ids: list[int] = []
    payload = watermark.payload
    if watermark.found and payload is not None and payload.is_facecraft:
        ids.append(payload.record_id)
    claims = c2pa.claims
    if c2pa.state in ("valid", "tampered") and claims is not None and claims.record_id:
        try:
            number = parse_record_id(claims.record_id)
        except ValueError:
            return ids
        if number not in ids:
            ids.append(number)
    return ids
