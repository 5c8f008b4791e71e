"""The report's JSON shape and the contact sheet."""

import json

import numpy as np
import pytest

from facecraft.quality.report import REPORT_KEYS, QualityDetails, QualityReport
from facecraft.quality.sheet import TILE_PX, SheetFrame, difference_heat, draw_contact_sheet, summary_lines


def sample_report() -> QualityReport:
    details = QualityDetails(frames_with_face=9, identity_frames=(2, 7), id_to_source_per_frame=(0.4, 0.5))
    return QualityReport(10, 0.9, 0.45, 0.7, 1.25, 0.93, None, 1.05, 0.002, 1.1, details)


def test_to_json_has_exactly_the_keys_in_order_and_serialises() -> None:
    report = sample_report()
    data = report.to_json()
    assert tuple(data) == REPORT_KEYS
    assert data["ear_corr"] is None
    assert json.loads(json.dumps(data)) == data
    details = json.loads(json.dumps(report.details_json()))
    assert details["identity_frames"] == [2, 7]
    assert details["frames_with_face"] == 9


def test_difference_heat_is_black_where_nothing_changed() -> None:
    tile = np.full((32, 32, 3), 120, dtype=np.uint8)
    changed = tile.copy()
    changed[:, 16:] = 200
    heat = difference_heat(tile, changed)
    assert heat.shape == (32, 32, 3)
    assert heat[:, :16].max() < 10 and heat[:, 16:].mean() > 100


def test_contact_sheet_has_a_row_per_frame_and_the_numbers() -> None:
    crop = np.full((TILE_PX, TILE_PX, 3), 100, dtype=np.uint8)
    rows = [SheetFrame(i, i / 30, crop, crop, 0.4, 0.7, 1.0, 0.2, 0.21) for i in (3, 9)]
    report = sample_report()
    sheet = draw_contact_sheet(rows, report, "title")
    empty = draw_contact_sheet([], report)
    assert sheet.dtype == np.uint8 and sheet.shape[1] == empty.shape[1]
    assert sheet.shape[0] > empty.shape[0] + 2 * TILE_PX
    assert "frame 3" in rows[0].caption() and "d_src 0.400" in rows[0].caption()
    lines = summary_lines(report)
    assert any("id to source 0.450" in line for line in lines)
    assert any("EAR corr -" in line for line in lines)


def test_sheet_frame_refuses_crops_of_different_sizes() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        SheetFrame(
            0, 0.0, np.zeros((8, 8, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), None, None, None, None, None
        )
