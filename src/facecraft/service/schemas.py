"""Response models of the REST API: they document the contract in /openapi.json.

Routes build plain dicts (``jobs.job_json`` and friends); these models validate and describe them.
"""

from typing import Any, Literal

from pydantic import BaseModel, Field

from facecraft.service.jobs import JobStatus


class ErrorBody(BaseModel):
    detail: str = Field(description="What went wrong and what to do about it, as one sentence.")


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Options(BaseModel):
    swappers: list[str]
    blend: list[str]
    color: list[str]
    faces: list[str]
    codecs: list[str]
    forehead: list[str]
    max_upload_bytes: int
    defaults: dict[str, str]


class Upload(BaseModel):
    id: str
    kind: Literal["image", "video"]
    name: str = Field(description="The sanitised original file name, for display only.")
    size_bytes: int
    width: int
    height: int
    duration_s: float | None


class FaceChoice(BaseModel):
    index: int = Field(description="Use faces=index:N with this N to replace this face.")
    bbox_xyxy: list[float]
    score: float
    thumbnail: str = Field(description="A data: URL of a small JPEG of the face.")


class Faces(BaseModel):
    upload_id: str
    frame_time_s: float
    faces: list[FaceChoice]


class Progress(BaseModel):
    frames_done: int
    frames_total: int | None
    fraction: float | None


class Timings(BaseModel):
    seconds: float
    fps: float
    stage_ms: dict[str, float]


class Job(BaseModel):
    id: str
    status: JobStatus
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    options: dict[str, Any]
    source_name: str
    target_name: str
    progress: Progress
    queue_position: int | None = Field(description="1 for the next job to run; null unless queued.")
    error: str | None
    notes: list[str]
    timings: Timings | None
    report: dict[str, Any] | None
    provenance: dict[str, Any] | None
    result_url: str | None
    target_url: str


class JobList(BaseModel):
    jobs: list[Job]
    total: int


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409, 413, 415, 422, 429)
}
"""Error statuses the API answers with, each with ``{"detail": sentence}``."""
