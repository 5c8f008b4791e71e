"""The web page end to end: a real browser (Debian's chromium via playwright) against a real server.

A person's photo (d30.jpg) goes onto a one-second slice of a real video (d18.mp4) through the page
alone: upload both, pick the face, swap, watch the progress, download the result, then check the file
with facecraft's own library (it decodes, and ``verify`` finds our marks) and with the page's Verify tab.
Screenshots of every state are kept under pytest's tmp dir; with ``FACECRAFT_RECORD_SCREENSHOTS=1`` they are
also copied to ``bench/web/``, the committed record (a plain test run leaves the working tree alone).
"""

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest

from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader
from facecraft.provenance.verify import verify

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page, ViewportSize

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser test needs playwright (the 'dev' extra)"
)

RECORD_DIR = Path(__file__).resolve().parents[2] / "bench" / "web"
SLICE_END_S = "1"
SLICE_FRAMES = range(25, 36)  # d18.mp4 is 30 fps: one second is about 30 frames
UPLOAD_TIMEOUT_MS = 60_000
JOB_TIMEOUT_MS = 180_000
MEDIA_READY_TIMEOUT_MS = 15_000
PAINT_WAIT_MS = 1000
DESKTOP: "ViewportSize" = {"width": 1280, "height": 900}
PHONE: "ViewportSize" = {"width": 375, "height": 812}

_RUNNING_OR_FINISHED = """() => {
  const result = document.getElementById('job-result');
  const banner = document.getElementById('banner');
  const status = document.getElementById('job-status').textContent;
  return !result.hidden || !banner.hidden || /Frame [1-9]/.test(status);
}"""
_FINISHED = (
    """() => !document.getElementById('job-result').hidden || !document.getElementById('banner').hidden"""
)
_VIDEOS_READY = """(selector) => {
  const videos = [...document.querySelectorAll(selector)];
  return videos.length > 0 && videos.every((video) => video.readyState >= 2);
}"""


@dataclass(slots=True)
class Screenshots:
    """Saves each page state under ``folder`` (and in ``bench/web/`` when recording, see the module doc)."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def take(self, page: "Page", name: str, *, full_page: bool = True) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if os.environ.get("FACECRAFT_RECORD_SCREENSHOTS") == "1":
            RECORD_DIR.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, RECORD_DIR / path.name)
        self.taken.append(path)
        return path


@dataclass  # not slotted: playwright keeps a wrapper on the object of a bound-method handler
class ConsoleProblems:
    """Console errors and uncaught exceptions of one page."""

    lines: list[str] = field(default_factory=list)

    def on_console(self, message: "ConsoleMessage") -> None:
        if message.type == "error":
            self.lines.append(f"console error: {message.text}")

    def on_page_error(self, error: "Error") -> None:
        self.lines.append(f"uncaught: {error}")


def open_page(browser: "Browser", url: str) -> tuple["Page", ConsoleProblems]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    problems = ConsoleProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.goto(url + "/")
    page.wait_for_selector("#opt-blend option", state="attached")
    return page, problems


def choose_files(page: "Page", media_dir: Path, shots: Screenshots) -> None:
    page.set_input_files("[data-testid=source-input]", str(media_dir / "images" / "d30.jpg"))
    page.wait_for_selector("#source-status.ok", timeout=UPLOAD_TIMEOUT_MS)
    page.set_input_files("[data-testid=target-input]", str(media_dir / "videos" / "d18.mp4"))
    shots.take(page, "02-files-chosen")
    page.wait_for_selector("[data-testid=face-0]", timeout=UPLOAD_TIMEOUT_MS)
    page.wait_for_selector("#target-status.ok", timeout=UPLOAD_TIMEOUT_MS)


def start_swap(page: "Page") -> None:
    page.click("[data-testid=face-0]")
    assert page.get_attribute("[data-testid=face-0]", "aria-pressed") == "true"
    assert page.input_value("[data-testid=opt-label]") == "AI-generated"
    page.click("details.advanced > summary")
    page.fill("[data-testid=opt-end]", SLICE_END_S)
    page.click("[data-testid=swap-button]")
    page.wait_for_selector("[data-testid=job-progress]:not([hidden]), #job-result:not([hidden])")


def wait_until_done(page: "Page", shots: Screenshots) -> None:
    page.wait_for_function(_RUNNING_OR_FINISHED, timeout=JOB_TIMEOUT_MS, polling=100)
    shots.take(page, "04-running")
    page.wait_for_function(_FINISHED, timeout=JOB_TIMEOUT_MS, polling=250)
    assert page.is_hidden("[data-testid=error]"), page.inner_text("[data-testid=error]")
    wait_for_video_frames(page, "#job-result video")


def wait_for_video_frames(page: "Page", selector: str) -> None:
    """Let the players show a frame before a screenshot (Debian's chromium decodes H.264).

    Only the pictures depend on it, so a timeout is not a failure; chromium paints the first frame a
    moment after its data is there.
    """
    with contextlib.suppress(sync_api.TimeoutError):
        page.wait_for_function(_VIDEOS_READY, arg=selector, timeout=MEDIA_READY_TIMEOUT_MS)
        page.wait_for_timeout(PAINT_WAIT_MS)


def download_result(page: "Page", folder: Path) -> Path:
    with page.expect_download() as info:
        page.click("[data-testid=download]")
    download = info.value
    path = folder / download.suggested_filename
    download.save_as(str(path))
    return path


def check_result_file(path: Path, config_dir: Path) -> None:
    info = probe(path)
    assert (info.width, info.height) == (480, 480)
    with FrameReader(path) as reader:
        shapes = [frame.image_bgr.shape for frame in reader]
    assert len(shapes) in SLICE_FRAMES, f"{len(shapes)} frames for a {SLICE_END_S} s slice"
    assert set(shapes) == {(480, 480, 3)}
    report = verify(path, config_dir=config_dir)
    assert report.watermark_is_ours, report.to_json()
    assert report.marked


def check_verify_tab(page: "Page", result: Path, shots: Screenshots) -> None:
    page.click("[data-testid=tab-verify]")
    page.set_input_files("[data-testid=verify-input]", str(result))
    page.wait_for_selector("[data-testid=verify-result]:not([hidden])", timeout=UPLOAD_TIMEOUT_MS)
    assert page.get_attribute("[data-testid=verify-verdict]", "data-marked") == "true"
    assert page.inner_text("[data-testid=verify-verdict]").startswith("Marked")
    shots.take(page, "06-verify")


def check_phone_layout(page: "Page", shots: Screenshots) -> None:
    page.set_viewport_size(PHONE)
    page.click("[data-testid=tab-swap]")
    page.evaluate("window.scrollTo(0, 0)")
    shots.take(page, "07-phone", full_page=False)
    page.evaluate("document.getElementById('job-result').scrollIntoView({block: 'start'})")
    page.wait_for_timeout(PAINT_WAIT_MS)
    shots.take(page, "08-phone-result", full_page=False)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at {PHONE['width']} px ({width} px wide)"


@pytest.mark.media
def test_swap_download_and_verify_through_the_page(
    browser: "Browser", web_url: str, web_config_dir: Path, media_dir: Path, tmp_path: Path
) -> None:
    shots = Screenshots(tmp_path / "screens")
    page, problems = open_page(browser, web_url)
    assert page.is_disabled("[data-testid=swap-button]")
    shots.take(page, "01-empty")

    choose_files(page, media_dir, shots)
    assert page.is_enabled("[data-testid=swap-button]")
    wait_for_video_frames(page, "#target-preview-video")
    shots.take(page, "03-faces")

    start_swap(page)
    wait_until_done(page, shots)
    summary = page.inner_text("[data-testid=summary]")
    assert "Invisible watermark\nyes" in summary, summary
    assert "Content Credentials (C2PA)\nvalid" in summary, summary
    assert "Identity distance to the photo" in summary, summary
    page.wait_for_selector("[data-testid=jobs] .badge.done")
    shots.take(page, "05-done")

    result = download_result(page, tmp_path)
    check_result_file(result, web_config_dir)
    check_verify_tab(page, result, shots)
    check_phone_layout(page, shots)
    page.context.close()
    assert problems.lines == [], problems.lines
    assert len(shots.taken) == 8


def test_page_asks_for_the_token_once_and_sends_it_everywhere(
    browser: "Browser", token_url: str, server_token: str, tmp_path: Path
) -> None:
    """A server with a token: the page asks once, then uploads, events, result and target all work."""
    picture = tmp_path / "plain.png"
    rows = np.linspace(0, 255, 160, dtype=np.uint8)
    cv2.imwrite(str(picture), np.dstack([np.tile(rows, (120, 1))] * 3))
    page = browser.new_page(viewport=DESKTOP)
    page.goto(token_url + "/")
    page.wait_for_selector("[data-testid=auth-form]:not([hidden])")
    assert page.locator("#opt-blend option").count() == 0
    page.fill("#auth-token", server_token)
    page.click("[data-testid=auth-form] button[type=submit]")
    page.wait_for_selector("#opt-blend option", state="attached")
    assert page.evaluate("sessionStorage.getItem('facecraft.token')") == server_token

    page.set_input_files("[data-testid=source-input]", str(picture))
    page.set_input_files("[data-testid=target-input]", str(picture))
    page.wait_for_selector("[data-testid=face-all][aria-pressed=true]", timeout=UPLOAD_TIMEOUT_MS)
    page.click("[data-testid=swap-button]")
    page.wait_for_selector("#job-result:not([hidden])", timeout=UPLOAD_TIMEOUT_MS)
    page.wait_for_function("document.querySelector('#compare-result img').naturalWidth > 0")
    assert page.is_hidden("[data-testid=auth-form]")
    href = page.get_attribute("[data-testid=download]", "href") or ""
    assert href.endswith(f"?token={server_token}"), href
    with page.expect_download() as info:
        page.click("[data-testid=download]")
    saved = tmp_path / "result.png"
    info.value.save_as(str(saved))
    assert saved.read_bytes() == picture.read_bytes()  # the instant runner's result is the target
    page.context.close()
