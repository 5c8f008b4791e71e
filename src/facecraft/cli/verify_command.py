"""``facecraft verify FILE [--json]``: is this file marked as made by facecraft? A table or JSON.

Exit codes: 0 when the file is marked as ours (watermark found, or valid facecraft credentials),
1 when it is not, 2 on errors (raised as FacecraftError and mapped by ``cli/main.py``).
"""

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table

from facecraft.provenance.c2pa import C2paReading
from facecraft.provenance.record import ProvenanceRecord
from facecraft.provenance.verify import VerifyReport, WatermarkReader, WatermarkResult, verify

_STATE_STYLE = {"valid": "green", "tampered": "bold red", "invalid": "red", "absent": "dim"}


def run_verify_command(
    path: Path,
    *,
    as_json: bool,
    console: Console,
    out: TextIO | None = None,
    watermark_reader: WatermarkReader | None = None,
    config_dir: Path | None = None,
) -> int:
    """Verify ``path``, print the JSON (to ``out``, default stdout) or a table; return the exit code."""
    report = verify(path, watermark_reader=watermark_reader, config_dir=config_dir)
    if as_json:
        (out or sys.stdout).write(verify_json_text(report) + "\n")
    else:
        console.print(verify_table(report))
        console.print(verdict_text(report), highlight=False)
    return report.exit_code


def verify_json_text(report: VerifyReport) -> str:
    """Exactly the keys ``watermark``, ``c2pa`` and ``record``, as one JSON object."""
    return json.dumps(report.to_json(), indent=2)


def verdict_text(report: VerifyReport) -> str:
    if report.marked:
        how = [
            name
            for name, ok in (
                ("invisible watermark", report.watermark_is_ours),
                ("Content Credentials", report.c2pa.valid_from_facecraft),
            )
            if ok
        ]
        return f"[bold green]marked:[/] made by facecraft (found: {' and '.join(how)})"
    if report.c2pa.state == "tampered":
        return (
            "[bold red]not verified:[/] Content Credentials no longer match the file (changed since signing)"
        )
    return "[yellow]not marked:[/] no facecraft watermark and no valid facecraft credentials found"


def verify_table(report: VerifyReport) -> Table:
    table = Table(title=str(report.path), show_header=False)
    table.add_column("check", style="bold")
    table.add_column("result")
    for section, rows in (
        ("watermark", _watermark_rows(report.watermark)),
        ("c2pa", _c2pa_rows(report.c2pa)),
        ("record", _record_rows(report.record)),
    ):
        table.add_section()
        for index, (key, value) in enumerate(rows):
            table.add_row(section if index == 0 else "", f"{key}: {value}")
    return table


def _watermark_rows(watermark: WatermarkResult) -> list[tuple[str, str]]:
    rows = [
        ("found", "[green]yes[/]" if watermark.found else "no"),
        ("bit accuracy", f"{watermark.bit_accuracy:.1%}"),
    ]
    payload = watermark.payload
    if payload is not None:
        tag = "facecraft" if payload.is_facecraft else f"unknown tag {payload.tag:#05x}"
        rows.append(("payload", f"{tag}, record {payload.record_id_hex}"))
    return rows


def _c2pa_rows(reading: C2paReading) -> list[tuple[str, str]]:
    style = _STATE_STYLE[reading.state]
    rows = [("state", f"[{style}]{reading.state}[/]")]
    claims = reading.claims
    if claims is None:
        return rows
    generator = " ".join(part for part in (claims.generator, claims.generator_version) if part)
    rows += [
        ("generator", generator or "unknown"),
        (
            "signer",
            f"{claims.signer or 'unknown'} ({'trusted' if claims.trusted else 'not on a trust list'})",
        ),
        ("where", "inside the file" if claims.embedded else "sidecar file beside it"),
        ("actions", ", ".join(claims.actions) or "none"),
        ("source type", (claims.digital_source_type or "not stated").rsplit("/", 1)[-1]),
    ]
    rows += [(f"input ({item.get('role')})", _input_text(item)) for item in claims.ingredients]
    if claims.models:
        rows.append(("models", ", ".join(claims.models)))
    if claims.record_id:
        rows.append(("record id", claims.record_id))
    rows += [("problem", f"[red]{problem}[/]") for problem in claims.problems]
    return rows


def _record_rows(record: ProvenanceRecord | None) -> list[tuple[str, str]]:
    if record is None:
        return [("known", "no (not in this machine's record store)")]
    rows = [
        ("id", record.record_id_hex),
        ("made", f"{record.created_utc} by {record.tool} {record.version}"),
        ("output", record.output_name or "unknown"),
    ]
    rows += [(f"input ({item.role})", f"{item.name} sha256 {item.sha256[:16]}…") for item in record.inputs]
    rows.append(("models", ", ".join(record.models) or "none"))
    if record.options:
        rows.append(("options", ", ".join(f"{k}={v}" for k, v in record.options.items())))
    return rows


def _input_text(item: Mapping[str, str | None]) -> str:
    digest = item.get("sha256")
    return f"{item.get('name')}" + (f" sha256 {digest[:16]}…" if digest else "")
