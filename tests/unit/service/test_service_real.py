"""End to end through the real runner on real footage: faces to pick from, a swap of d30.jpg onto the
first second of d18.mp4, its download, and /api/verify finding the marks on it."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from facecraft.media.probe import probe
from facecraft.service.app import create_app
from facecraft.service.settings import ServiceSettings
from unit.service.service_fakes import wait_for

pytestmark = pytest.mark.media

GROUP_PHOTO = "groups/2008_002506.jpg"


@pytest.fixture(scope="module")
def real_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("service-real")
    settings = ServiceSettings(data_dir=root / "data", config_dir=root / "config")
    with TestClient(create_app(settings)) as client:
        yield client


def _upload(client: TestClient, path: Path, mime: str) -> dict[str, object]:
    response = client.post("/api/uploads", files={"file": (path.name, path.read_bytes(), mime)})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_faces_come_in_index_order_with_thumbnails(real_client: TestClient, media_dir: Path) -> None:
    upload = _upload(real_client, media_dir / "images" / GROUP_PHOTO, "image/jpeg")
    body = real_client.get(f"/api/uploads/{upload['id']}/faces").json()
    faces = body["faces"]
    assert len(faces) >= 2
    assert [face["index"] for face in faces] == list(range(len(faces)))
    lefts = [face["bbox_xyxy"][0] for face in faces]
    assert lefts == sorted(lefts)  # index:N counts faces from the left
    for face in faces:
        assert face["thumbnail"].startswith("data:image/jpeg;base64,") and len(face["thumbnail"]) > 200
        assert 0.0 < face["score"] <= 1.0


def test_a_real_swap_downloads_marked(real_client: TestClient, media_dir: Path, tmp_path: Path) -> None:
    source = _upload(real_client, media_dir / "images" / "d30.jpg", "image/jpeg")
    target = _upload(real_client, media_dir / "videos" / "d18.mp4", "video/mp4")
    faces = real_client.get(f"/api/uploads/{target['id']}/faces").json()
    assert len(faces["faces"]) == 1 and faces["frame_time_s"] == 0.0
    response = real_client.post(
        "/api/jobs",
        data={
            "source_upload_id": str(source["id"]),
            "target_upload_id": str(target["id"]),
            "end_s": "1.0",
            "faces": "index:0",
            "label": "AI-generated",
        },
    )
    assert response.status_code == 201, response.text
    job = wait_for(real_client, response.json()["id"], {"done", "failed", "cancelled"}, timeout_s=240)
    assert job["status"] == "done", job["error"]
    assert job["progress"]["frames_done"] == 30 and job["timings"]["fps"] > 0
    assert job["report"]["frames"] == 30 and job["report"]["faces_swapped"] > 20
    assert "quality" in job["report"] and job["report"]["output"] == "result.mp4"
    assert job["provenance"]["watermark"]["found"] is True
    data_dir = str(real_client.app.state.service.settings.data_dir)  # type: ignore[attr-defined]
    assert data_dir not in json.dumps(job)  # no server path leaks into the job's JSON
    result = real_client.get(job["result_url"])
    assert result.status_code == 200 and result.headers["content-type"] == "video/mp4"
    output = tmp_path / "swapped.mp4"
    output.write_bytes(result.content)
    info = probe(output)
    assert info.frame_count == 30 and info.display_wh == (480, 480)
    verified = real_client.post("/api/verify", files={"file": ("swapped.mp4", result.content, "video/mp4")})
    assert verified.status_code == 200, verified.text
    report = verified.json()
    assert set(report) == {"watermark", "c2pa", "record"}
    assert report["watermark"]["found"] is True and report["c2pa"]["state"] == "valid"
    assert verified.headers["x-facecraft-marked"] == "true"
    original = real_client.post(
        "/api/verify",
        files={"file": ("d18.mp4", (media_dir / "videos" / "d18.mp4").read_bytes(), "video/mp4")},
    )
    assert original.json()["watermark"]["found"] is False
    assert original.headers["x-facecraft-marked"] == "false"
