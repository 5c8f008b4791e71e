"""POST /api/uploads: real images and videos are accepted; empty, fake, truncated, oversized files and
path tricks in names are refused or neutralised; GET /api/uploads/{id}/faces on a face-less image."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from facecraft.service.app import create_app
from facecraft.service.settings import ServiceSettings
from facecraft.service.uploads import sanitize_name
from unit.service.service_fakes import FakeRunner, image_bytes


def _stored_files(settings_dir: Path) -> list[Path]:
    return sorted(p for p in (settings_dir / "uploads").iterdir())


def test_an_image_upload_is_probed_and_stored_under_a_generated_name(client: TestClient) -> None:
    response = client.post(
        "/api/uploads", files={"file": ("holiday photo.jpg", image_bytes(".jpg"), "image/jpeg")}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "image" and body["name"] == "holiday photo.jpg"
    assert (body["width"], body["height"]) == (96, 64)
    assert body["duration_s"] is None and body["size_bytes"] > 0
    assert len(body["id"]) == 32 and int(body["id"], 16) >= 0


def test_a_png_named_jpg_gets_the_suffix_of_its_content(client: TestClient, tmp_path: Path) -> None:
    response = client.post("/api/uploads", files={"file": ("fake.jpg", image_bytes(".png"), "image/jpeg")})
    assert response.status_code == 201
    stored = _stored_files(tmp_path / "data")
    assert [p.name for p in stored] == [f"{response.json()['id']}.png"]


def test_a_video_upload_reports_its_length(client: TestClient, mp4_bytes: bytes) -> None:
    response = client.post("/api/uploads", files={"file": ("clip.mp4", mp4_bytes, "video/mp4")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "video" and (body["width"], body["height"]) == (64, 48)
    assert body["duration_s"] == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("empty.png", b"", 400, "empty"),
        ("clip.mp4", bytes(range(256)) * 40, 422, "cannot be decoded"),
        ("notes.txt", b"just some text, not a picture\n" * 10, 422, "cannot be decoded"),
    ],
)
def test_unreadable_uploads_are_refused_with_a_reason(
    client: TestClient, tmp_path: Path, name: str, content: bytes, status: int, words: str
) -> None:
    response = client.post("/api/uploads", files={"file": (name, content, "video/mp4")})
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert words in detail and name in detail
    assert str(tmp_path) not in detail  # the server's paths never leak
    assert _stored_files(tmp_path / "data") == []


def test_a_truncated_mp4_is_refused(client: TestClient, mp4_bytes: bytes, tmp_path: Path) -> None:
    response = client.post(
        "/api/uploads", files={"file": ("cut.mp4", mp4_bytes[: len(mp4_bytes) // 2], "video/mp4")}
    )
    assert response.status_code in (415, 422), response.text
    assert "cut.mp4" in response.json()["detail"]
    assert _stored_files(tmp_path / "data") == []


def test_a_truncated_png_is_refused(client: TestClient) -> None:
    data = image_bytes(".png", size_wh=(300, 200))
    response = client.post("/api/uploads", files={"file": ("cut.png", data[: len(data) // 2], "image/png")})
    assert response.status_code == 422
    assert "cut.png" in response.json()["detail"]


def test_oversized_uploads_are_stopped_at_the_cap(
    make_settings: Callable[..., ServiceSettings], tmp_path: Path
) -> None:
    settings = make_settings(max_upload_bytes=2000)
    with TestClient(create_app(settings, FakeRunner())) as client:
        big = image_bytes(".png", size_wh=(400, 300))
        assert len(big) > 2000
        response = client.post("/api/uploads", files={"file": ("big.png", big, "image/png")})
        assert response.status_code == 413, response.text
        assert "2,000 bytes" in response.json()["detail"]
        # a body over the cap plus slack is refused before it is read (Content-Length)
        huge = b"\0" * (2000 + 1024 * 1024 + 10)
        response = client.post("/api/uploads", files={"file": ("huge.bin", huge)})
        assert response.status_code == 413
        assert _stored_files(settings.data_dir) == []


def test_a_streamed_body_without_length_is_cut_at_the_cap(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    settings = make_settings(max_upload_bytes=1000)
    boundary = "x-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(40):
            yield b"\1" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    with TestClient(create_app(settings, FakeRunner())) as client:
        response = client.post(
            "/api/uploads",
            content=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 413, response.text
        assert "limit" in response.json()["detail"]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\x.jpg", "x.jpg"),
        ("a/b.png", "b.png"),
        ("evil\0name.png", "evilname.png"),
        ("..", "upload"),
        ("", "upload"),
        ("  \t.hidden.png ", "hidden.png"),
    ],
)
def test_names_are_sanitised_for_display(raw: str, shown: str) -> None:
    assert sanitize_name(raw) == shown


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "..\\x.jpg", "a/b.png", "../../../tmp/evil.png", "nul\x00.png"]
)
def test_path_tricks_in_names_never_become_paths(client: TestClient, tmp_path: Path, name: str) -> None:
    response = client.post("/api/uploads", files={"file": (name, image_bytes(), "image/png")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert "/" not in body["name"] and "\\" not in body["name"] and "\0" not in body["name"]
    assert [p.name for p in _stored_files(tmp_path / "data")] == [f"{body['id']}.png"]
    assert not (tmp_path / "etc").exists() and not Path("/tmp/evil.png").exists()
    assert {p.name for p in tmp_path.iterdir()} <= {"config", "data"}


def test_faces_of_a_faceless_image_is_an_empty_list(client: TestClient) -> None:
    upload = client.post("/api/uploads", files={"file": ("wall.png", image_bytes(), "image/png")}).json()
    response = client.get(f"/api/uploads/{upload['id']}/faces")
    assert response.status_code == 200, response.text
    assert response.json() == {"upload_id": upload["id"], "frame_time_s": 0.0, "faces": []}


def test_faces_of_a_video_samples_frames(client: TestClient, mp4_bytes: bytes) -> None:
    upload = client.post("/api/uploads", files={"file": ("clip.mp4", mp4_bytes, "video/mp4")}).json()
    response = client.get(f"/api/uploads/{upload['id']}/faces")
    assert response.status_code == 200, response.text
    assert response.json()["faces"] == []


def test_faces_of_unknown_or_malformed_ids(client: TestClient) -> None:
    response = client.get(f"/api/uploads/{'0' * 32}/faces")
    assert response.status_code == 404 and "upload" in response.json()["detail"]
    for bad in ("..%2F..%2Fetc%2Fpasswd", "ABC", "0" * 31 + "g"):
        response = client.get(f"/api/uploads/{bad}/faces")
        assert response.status_code in (404, 422)
        assert isinstance(response.json()["detail"], str)
