"""The token: every /api route but health needs it (header, or ?token= where a browser cannot send
headers); the page and the OpenAPI schema are public."""

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from facecraft.service.app import create_app
from facecraft.service.settings import ServiceSettings
from unit.service.service_fakes import FakeRunner, image_bytes, wait_for

TOKEN = "correct-horse-battery-staple"
GOOD = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def secured(make_settings: Callable[..., ServiceSettings]) -> Iterator[TestClient]:
    settings = make_settings(token=TOKEN, host="0.0.0.0")
    with TestClient(create_app(settings, FakeRunner())) as client:
        yield client


def _job(client: TestClient) -> str:
    files = {"source": ("a.png", image_bytes(), "image/png"), "target": ("b.png", image_bytes(), "image/png")}
    response = client.post("/api/jobs", files=files, headers=GOOD)
    assert response.status_code == 201, response.text
    job_id = str(response.json()["id"])
    wait_for_client = TestClient(client.app, headers=GOOD)
    wait_for(wait_for_client, job_id, {"done"})
    return job_id


ROUTES = [
    ("GET", "/api/options"),
    ("GET", "/api/jobs"),
    ("GET", f"/api/jobs/{'a' * 32}"),
    ("GET", f"/api/jobs/{'a' * 32}/events"),
    ("GET", f"/api/jobs/{'a' * 32}/result"),
    ("GET", f"/api/jobs/{'a' * 32}/target"),
    ("POST", f"/api/jobs/{'a' * 32}/cancel"),
    ("DELETE", f"/api/jobs/{'a' * 32}"),
    ("POST", "/api/jobs"),
    ("POST", "/api/uploads"),
    ("GET", f"/api/uploads/{'a' * 32}/faces"),
    ("POST", "/api/verify"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_api_routes_need_the_token(secured: TestClient, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = secured.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path, headers)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "token" in response.json()["detail"]
    assert secured.request(method, path, headers=GOOD).status_code != 401


def test_health_page_and_schema_are_public(secured: TestClient) -> None:
    assert secured.get("/api/health").json()["status"] == "ok"
    page = secured.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    static = secured.get("/static/index.html")
    assert static.status_code == 200 and static.content == page.content
    schema = secured.get("/openapi.json").json()
    assert "/api/jobs" in schema["paths"] and "/api/jobs/{job_id}/events" in schema["paths"]
    form = schema["paths"]["/api/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]


def test_query_token_works_only_where_headers_cannot_be_sent(secured: TestClient) -> None:
    job_id = _job(secured)
    for tail in ("result", "target", "events"):
        assert secured.get(f"/api/jobs/{job_id}/{tail}", params={"token": TOKEN}).status_code == 200
        assert secured.get(f"/api/jobs/{job_id}/{tail}", params={"token": "nope"}).status_code == 401
    assert secured.get(f"/api/jobs/{job_id}", params={"token": TOKEN}).status_code == 401
    assert secured.get("/api/jobs", params={"token": TOKEN}).status_code == 401


def test_without_a_token_configured_everything_is_open(client: TestClient) -> None:
    assert client.get("/api/jobs").status_code == 200
    assert client.get("/api/options", headers={"Authorization": "Bearer anything"}).status_code == 200
