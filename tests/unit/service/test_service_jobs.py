"""Jobs through the API with a fake runner: create, options, list, progress events, result download,
cancel, delete, a full queue, and the runner's typed errors as the job's error text."""

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from facecraft.blend.compositor import BlendMode, ColorMode
from facecraft.errors import NoFaceError
from facecraft.media.writer import VideoCodec
from facecraft.pipeline.swap_builder import photo_swapper_names
from facecraft.service.app import create_app
from facecraft.service.jobs import JobOptions
from facecraft.service.runner import selection_policy
from facecraft.service.settings import ServiceSettings
from unit.service.service_fakes import FAKE_FRAMES, FakeRunner, image_bytes, submit, wait_for


def test_options_come_from_the_library_choices(client: TestClient) -> None:
    body = client.get("/api/options").json()
    assert body["blend"] == list(get_args(BlendMode)) and "multiband" in body["blend"]
    assert body["color"] == list(get_args(ColorMode)) and "shading" in body["color"]
    assert body["swappers"] == list(photo_swapper_names()) and "mesh" in body["swappers"]
    assert "trained" not in body["swappers"]  # needs a model directory, which the form cannot name
    assert body["codecs"] == list(get_args(VideoCodec))
    assert body["faces"] == ["all", "largest", "index:N", "reference"]
    assert body["forehead"] == ["auto", "on", "off"] and body["defaults"]["forehead"] == "auto"
    assert body["max_upload_bytes"] == 1024**3
    assert client.get("/api/health").json()["status"] == "ok"


def test_a_job_runs_to_done_and_its_result_downloads(client: TestClient, fake_runner: FakeRunner) -> None:
    job = submit(client, blend="feather", crf="20", label="AI-generated", faces="index:1")
    assert job["status"] in ("queued", "running")
    assert job["options"]["blend"] == "feather" and job["options"]["crf"] == 20
    assert job["options"]["label"] == "AI-generated" and job["options"]["faces"] == "index:1"
    assert job["source_name"] == "me.png" and job["target_name"] == "them.png"
    assert job["target_url"] == f"/api/jobs/{job['id']}/target"
    done = wait_for(client, str(job["id"]), {"done"})
    assert done["progress"] == {"frames_done": FAKE_FRAMES, "frames_total": FAKE_FRAMES, "fraction": 1.0}
    assert done["result_url"] == f"/api/jobs/{job['id']}/result"
    assert done["timings"] == {"seconds": 0.05, "fps": 100.0, "stage_ms": {"swap": 1.0}}
    assert done["report"] == {"frames": FAKE_FRAMES, "quality": {"identity": 0.5}}
    assert done["provenance"]["c2pa"] == {"state": "valid"}
    assert done["notes"] == ["made from 'them.png'"]  # server paths become the user's names
    assert done["started_at"] and done["finished_at"] and str(done["finished_at"]).endswith("Z")
    result = client.get(str(done["result_url"]))
    assert result.status_code == 200 and result.headers["content-type"] == "image/png"
    disposition = result.headers["content-disposition"]
    assert disposition.startswith("attachment") and f"facecraft-{str(job['id'])[:8]}.png" in disposition
    target = client.get(str(done["target_url"]))
    assert target.status_code == 200 and target.content == result.content  # the fake copies the target
    assert fake_runner.finished == [job["id"]]


def test_jobs_from_upload_ids(client: TestClient, mp4_bytes: bytes) -> None:
    source = client.post("/api/uploads", files={"file": ("me.jpg", image_bytes(".jpg"), "image/jpeg")}).json()
    target = client.post("/api/uploads", files={"file": ("clip.mp4", mp4_bytes, "video/mp4")}).json()
    response = client.post(
        "/api/jobs",
        data={
            "source_upload_id": source["id"],
            "target_upload_id": target["id"],
            "codec": "vp9",
            "report": "false",
            "keep_occluders": "true",
            "forehead": "on",
            "glasses": "false",
            "keep_lips": "true",
            "target_glasses": "false",
            "outline": "true",
        },
    )
    assert response.status_code == 201, response.text
    job = wait_for(client, response.json()["id"], {"done"})
    assert job["source_name"] == "me.jpg" and job["target_name"] == "clip.mp4"
    assert job["report"] is None and job["options"]["codec"] == "vp9"
    assert job["options"]["keep_occluders"] is True and job["options"]["forehead"] == "on"
    assert job["options"]["glasses"] is False and job["options"]["keep_lips"] is True
    assert job["options"]["target_glasses"] is False and job["options"]["outline"] is True
    result = client.get(f"/api/jobs/{job['id']}/result")
    assert result.headers["content-type"] == "video/webm"
    assert result.content == mp4_bytes  # the fake runner copied the linked target
    target_file = client.get(f"/api/jobs/{job['id']}/target")
    assert target_file.headers["content-type"] == "video/mp4"
    assert target_file.headers["content-disposition"].startswith("inline")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"blend": "smudge"}, "'multiband'"),
        ({"blend": "smudge"}, "'poisson'"),
        ({"color": "sepia"}, "'shading'"),
        ({"color": "sepia"}, "'none'"),
        ({"codec": "av1"}, "'vp9'"),
        ({"swapper": "magic"}, "choose one of: mesh"),
        ({"faces": "index:x"}, "invalid 'faces'"),
        ({"faces": "reference:/etc/passwd"}, "invalid 'faces'"),
        ({"faces": "reference"}, "reference_upload_id"),
        ({"crf": "99"}, "invalid 'crf'"),
        ({"forehead": "true"}, "invalid 'forehead'"),
        ({"start_s": "3", "end_s": "1"}, "must be after start_s"),
        ({"source_upload_id": "../../etc/passwd"}, "invalid 'source_upload_id'"),
    ],
)
def test_invalid_options_are_refused_with_the_allowed_values(
    client: TestClient, tmp_path: Path, fields: dict[str, str], words: str
) -> None:
    files = {"source": ("a.png", image_bytes(), "image/png"), "target": ("b.png", image_bytes(), "image/png")}
    response = client.post("/api/jobs", files=files, data=fields)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert list((tmp_path / "data" / "jobs").iterdir()) == []
    assert client.get("/api/jobs").json()["total"] == 0


def test_missing_or_wrong_kind_of_inputs(client: TestClient, mp4_bytes: bytes) -> None:
    response = client.post("/api/jobs", files={"target": ("b.png", image_bytes(), "image/png")})
    assert response.status_code == 422 and "the source is missing" in response.json()["detail"]
    files = {"source": ("clip.mp4", mp4_bytes, "video/mp4"), "target": ("b.png", image_bytes(), "image/png")}
    response = client.post("/api/jobs", files=files)
    assert response.status_code == 422 and "must be a photo" in response.json()["detail"]
    response = client.post("/api/jobs", data={"source_upload_id": "0" * 32, "target_upload_id": "1" * 32})
    assert response.status_code == 404 and "upload" in response.json()["detail"]
    files = {
        "source": ("a.png", b"not an image", "image/png"),
        "target": ("b.png", image_bytes(), "image/png"),
    }
    response = client.post("/api/jobs", files=files)
    assert response.status_code == 422 and "a.png" in response.json()["detail"]


def test_list_is_newest_first_and_pages(client: TestClient) -> None:
    ids = [submit(client)["id"] for _ in range(3)]
    for job_id in ids:
        wait_for(client, str(job_id), {"done"})
    listing = client.get("/api/jobs").json()
    assert listing["total"] == 3 and [j["id"] for j in listing["jobs"]] == ids[::-1]
    page = client.get("/api/jobs", params={"limit": 1, "offset": 1}).json()
    assert [j["id"] for j in page["jobs"]] == [ids[1]]
    assert client.get("/api/jobs", params={"limit": 0}).status_code == 422


def test_unknown_and_malformed_job_ids(client: TestClient) -> None:
    assert client.get(f"/api/jobs/{'a' * 32}").status_code == 404
    for bad in ("..%2F..%2Fetc%2Fpasswd", "A" * 32, "1234", "%00" * 3):
        response = client.get(f"/api/jobs/{bad}/result")
        assert response.status_code in (404, 422), bad
        assert isinstance(response.json()["detail"], str)


def _blocked_client(
    make_settings: Callable[..., ServiceSettings], gate: threading.Event, **overrides: object
) -> tuple[TestClient, FakeRunner]:
    runner = FakeRunner(gate)
    return TestClient(create_app(make_settings(**overrides), runner)), runner


def test_queue_order_positions_and_cancel(make_settings: Callable[..., ServiceSettings]) -> None:
    gate = threading.Event()
    test_client, runner = _blocked_client(make_settings, gate)
    with test_client as client:
        first = submit(client)
        assert runner.running.wait(5)
        second, third = submit(client), submit(client)
        assert wait_for(client, str(first["id"]), {"running"})["queue_position"] is None
        assert client.get(f"/api/jobs/{second['id']}").json()["queue_position"] == 1
        assert client.get(f"/api/jobs/{third['id']}").json()["queue_position"] == 2
        assert client.get(f"/api/jobs/{first['id']}/result").status_code == 409
        # cancelling a queued job is immediate
        response = client.post(f"/api/jobs/{second['id']}/cancel")
        assert response.status_code == 202 and response.json()["status"] == "cancelled"
        assert client.get(f"/api/jobs/{third['id']}").json()["queue_position"] == 1
        # cancelling a running job stops the runner
        response = client.post(f"/api/jobs/{first['id']}/cancel")
        assert response.status_code == 202
        cancelled = wait_for(client, str(first["id"]), {"cancelled"})
        assert cancelled["result_url"] is None and cancelled["error"] is None
        assert client.post(f"/api/jobs/{first['id']}/cancel").status_code == 409
        gate.set()
        wait_for(client, str(third["id"]), {"done"})
        assert runner.started == [first["id"], third["id"]]  # FIFO, the cancelled one never ran


def test_a_full_queue_answers_429_with_retry_after(make_settings: Callable[..., ServiceSettings]) -> None:
    gate = threading.Event()
    test_client, runner = _blocked_client(make_settings, gate, max_queued=2)
    with test_client as client:
        submit(client)
        assert runner.running.wait(5)
        submit(client), submit(client)
        files = {
            "source": ("a.png", image_bytes(), "image/png"),
            "target": ("b.png", image_bytes(), "image/png"),
        }
        response = client.post("/api/jobs", files=files)
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) > 0 and "queue" in response.json()["detail"]
        assert client.get("/api/jobs").json()["total"] == 3
        gate.set()


def test_delete_removes_files_and_row_even_while_running(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    gate = threading.Event()
    test_client, runner = _blocked_client(make_settings, gate)
    with test_client as client:
        job = submit(client)
        assert runner.running.wait(5)
        folder = make_settings().jobs_dir / str(job["id"])
        assert folder.is_dir()
        assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
        assert not folder.exists()
        assert client.get(f"/api/jobs/{job['id']}").status_code == 404
        assert client.delete(f"/api/jobs/{job['id']}").status_code == 404
        done = submit(client)
        gate.set()
        wait_for(client, str(done["id"]), {"done"})
        assert client.delete(f"/api/jobs/{done['id']}").status_code == 204
        assert client.get("/api/jobs").json() == {"jobs": [], "total": 0}


def test_library_errors_become_the_job_error(make_settings: Callable[..., ServiceSettings]) -> None:
    runner = FakeRunner(error=NoFaceError("the source photo 'PLACEHOLDER'"))
    with TestClient(create_app(make_settings(), runner)) as client:
        job = submit(client)
        failed = wait_for(client, str(job["id"]), {"failed"})
        assert str(failed["error"]).startswith("no face found in the source photo")
        assert failed["result_url"] is None
        assert client.get(f"/api/jobs/{job['id']}/result").status_code == 409


def test_events_stream_progress_then_end(make_settings: Callable[..., ServiceSettings]) -> None:
    runner = FakeRunner(frame_s=0.15)
    with TestClient(create_app(make_settings(), runner)) as client:
        job = submit(client)
        events: list[tuple[str, dict[str, Any]]] = []
        with client.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.append((name, json.loads(line.removeprefix("data: "))))
        names = [name for name, _ in events]
        assert names[-1] == "end" and names.count("end") == 1 and names.count("job") >= 3
        statuses = [data["status"] for name, data in events if name == "job"]
        assert statuses[-1] == "done"
        fractions = [data["progress"]["fraction"] for name, data in events if name == "job"]
        assert any(f is not None and 0 < f < 1 for f in fractions)  # progress arrived while running
        # a finished job's stream gives its state and ends at once
        with client.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
            lines = [line for line in stream.iter_lines() if line.startswith("event: ")]
        assert lines == ["event: job", "event: end"]
        assert client.get(f"/api/jobs/{'f' * 32}/events").status_code == 404


def test_faces_reference_takes_the_reference_upload(client: TestClient, fake_runner: FakeRunner) -> None:
    reference = client.post(
        "/api/uploads", files={"file": ("them-alone.jpg", image_bytes(".jpg"), "")}
    ).json()
    job = submit(client, faces="reference", reference_upload_id=reference["id"])
    done = wait_for(client, str(job["id"]), {"done"})
    assert done["options"]["faces"] == "reference"
    assert done["options"]["reference_name"] == "them-alone.jpg"
    spec_reference = fake_runner.references[-1]
    assert spec_reference is not None and spec_reference.suffix == ".jpg"
    policy = selection_policy(JobOptions(faces="reference"), spec_reference)
    assert policy.kind == "reference" and policy.reference_path == spec_reference
    assert selection_policy(JobOptions(faces="index:2"), None).index == 2


def test_messages_name_the_users_files_not_the_servers() -> None:
    from facecraft.service.worker import path_names

    class _Files:
        source = "source.jpg"
        target = "target.mp4"
        reference = None

    class _Names:
        source = "me.jpg"
        target = "holiday.mp4"
        reference = None

    class _Job:
        id = "abc"
        files = _Files()
        names = _Names()

    from facecraft.service.uploads import public_message

    names = path_names(_Job(), Path("/srv/jobs"))  # type: ignore[arg-type]
    message = "no face found in source photo 'source.jpg' (/srv/jobs/abc/target.mp4)"
    assert public_message(message, names) == "no face found in source photo 'me.jpg' (holiday.mp4)"


def test_job_options_round_trip_and_older_records_get_the_defaults() -> None:
    options = JobOptions(
        faces="largest",
        forehead="on",
        keep_occluders=True,
        glasses=False,
        keep_lips=True,
        target_glasses=False,
        outline=True,
    )
    assert JobOptions.from_json(options.to_json()) == options
    newer_keys = ("forehead", "keep_occluders", "glasses", "keep_lips", "target_glasses", "outline")
    older = {k: v for k, v in JobOptions().to_json().items() if k not in newer_keys}
    restored = JobOptions.from_json(older)
    assert restored.forehead == "off" and restored.keep_occluders is False and restored.glasses is True
    # jobs stored when the forehead was a yes or no
    assert JobOptions.from_json({**older, "forehead": False}).forehead == "off"
    assert JobOptions.from_json({**older, "forehead": True}).forehead == "on"
    assert restored.keep_lips is False and restored.target_glasses is True and restored.outline is False
