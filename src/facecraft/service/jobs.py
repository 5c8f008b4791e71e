"""The job model: options, the stored record, what the runner gets and gives back, and the API's JSON."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args

from facecraft.blend.compositor import FOREHEAD_MODES, BlendMode, ColorMode, ForeheadMode
from facecraft.media.writer import VideoCodec

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
TERMINAL_STATUSES: frozenset[JobStatus] = frozenset({"done", "failed", "cancelled"})
UploadKind = Literal["image", "video"]

JsonDict = dict[str, object]


@dataclass(frozen=True, slots=True)
class JobOptions:
    """The swap options of one job (the same choices as ``facecraft swap``).

    faces: ``all``, ``largest``, ``index:N`` or ``reference`` (the reference photo is the job's
    ``reference`` file). label: visible caption, None for none. forehead: ``auto``, ``on`` or ``off``, as the
    swap's default, ``--forehead`` and ``--no-forehead``. keep_occluders, glasses, keep_lips, target_glasses,
    outline: as the swap's ``--keep-occluders``, ``--glasses/--no-glasses``, ``--keep-lips``,
    ``--target-glasses/--no-target-glasses`` and ``--outline``.
    """

    faces: str = "all"
    swapper: str = "mesh"
    blend: BlendMode = "multiband"
    color: ColorMode = "shading"
    codec: VideoCodec = "h264"
    crf: int = 18
    label: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    report: bool = True
    forehead: ForeheadMode = "auto"
    keep_occluders: bool = False
    glasses: bool = True
    keep_lips: bool = False
    target_glasses: bool = True
    outline: bool = False

    def to_json(self) -> JsonDict:
        return {
            "faces": self.faces,
            "swapper": self.swapper,
            "blend": self.blend,
            "color": self.color,
            "codec": self.codec,
            "crf": self.crf,
            "label": self.label,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "report": self.report,
            "forehead": self.forehead,
            "keep_occluders": self.keep_occluders,
            "glasses": self.glasses,
            "keep_lips": self.keep_lips,
            "target_glasses": self.target_glasses,
            "outline": self.outline,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> "JobOptions":
        return cls(
            faces=str(data["faces"]),
            swapper=str(data["swapper"]),
            blend=cast(BlendMode, data["blend"]),
            color=cast(ColorMode, data["color"]),
            codec=cast(VideoCodec, data["codec"]),
            crf=int(cast(int, data["crf"])),
            label=cast(str | None, data.get("label")),
            start_s=cast(float | None, data.get("start_s")),
            end_s=cast(float | None, data.get("end_s")),
            report=bool(data.get("report", True)),
            forehead=_forehead_mode(data.get("forehead", False)),
            keep_occluders=bool(data.get("keep_occluders", False)),
            glasses=bool(data.get("glasses", True)),
            keep_lips=bool(data.get("keep_lips", False)),
            target_glasses=bool(data.get("target_glasses", True)),
            outline=bool(data.get("outline", False)),
        )


def _forehead_mode(value: object) -> ForeheadMode:
    """A stored job's forehead choice. Jobs stored before ``auto`` existed hold a bool, or nothing if older
    still; both ran with the face stopping above the brows unless True, as ``off`` does now."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value not in FOREHEAD_MODES:
        raise ValueError(f"unknown forehead mode {value!r} in a stored job")
    return cast(ForeheadMode, value)


@dataclass(frozen=True, slots=True)
class JobFiles:
    """File names inside the job's own folder (never user-given names)."""

    source: str
    target: str
    reference: str | None = None
    result: str | None = None


@dataclass(frozen=True, slots=True)
class JobNames:
    """The sanitised original names, for display only."""

    source: str
    target: str
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class JobProgress:
    frames_done: int = 0
    frames_total: int | None = None

    @property
    def fraction(self) -> float | None:
        if not self.frames_total:
            return None
        return min(1.0, self.frames_done / self.frames_total)

    def to_json(self) -> JsonDict:
        fraction = self.fraction
        return {
            "frames_done": self.frames_done,
            "frames_total": self.frames_total,
            "fraction": None if fraction is None else round(fraction, 4),
        }


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One row of the job store."""

    id: str
    seq: int
    status: JobStatus
    created_at: dt.datetime
    options: JobOptions
    files: JobFiles
    names: JobNames
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    progress: JobProgress = field(default_factory=JobProgress)
    error: str | None = None
    notes: tuple[str, ...] = ()
    timings: JsonDict | None = None
    report: JsonDict | None = None
    provenance: JsonDict | None = None
    restarts: int = 0
    cancel_requested: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What a runner needs to run one job: absolute paths inside the job's folder and the options."""

    job_id: str
    source: Path
    target: Path
    output: Path
    options: JobOptions
    reference: Path | None = None


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What a finished run gives back."""

    output: Path
    frames: int
    seconds: float
    stage_ms: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    report: JsonDict | None = None
    provenance: JsonDict | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def timings_json(self) -> JsonDict:
        return {
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 2),
            "stage_ms": {k: round(v, 2) for k, v in self.stage_ms.items()},
        }


def result_name(kind: UploadKind, codec: VideoCodec) -> str:
    """The output's file name in the job folder: PNG for a still (lossless keeps the watermark intact),
    WebM for VP9, else MP4."""
    if kind == "image":
        return "result.png"
    return "result.webm" if codec == "vp9" else "result.mp4"


def iso_utc(moment: dt.datetime | None) -> str | None:
    """ISO-8601 in UTC with a ``Z``, or None."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def job_json(job: JobRecord, queue_position: int | None) -> JsonDict:
    """The job as the API shows it. ``queue_position``: 1 for the next job to run, None unless queued."""
    return {
        "id": job.id,
        "status": job.status,
        "created_at": iso_utc(job.created_at),
        "started_at": iso_utc(job.started_at),
        "finished_at": iso_utc(job.finished_at),
        "options": job.options.to_json() | {"reference_name": job.names.reference},
        "source_name": job.names.source,
        "target_name": job.names.target,
        "progress": job.progress.to_json(),
        "queue_position": queue_position if job.status == "queued" else None,
        "error": job.error,
        "notes": list(job.notes),
        "timings": job.timings,
        "report": job.report,
        "provenance": job.provenance,
        "result_url": f"/api/jobs/{job.id}/result" if job.status == "done" and job.files.result else None,
        "target_url": f"/api/jobs/{job.id}/target",
    }
