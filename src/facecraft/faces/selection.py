"""Which faces to act on: ``all``, ``largest``, ``index:N`` or ``reference:PHOTO``.

For video the choice is made per track and kept while the track lives, so the selected face does not
jump between people from one frame to the next.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from facecraft.errors import SelectionError
from facecraft.faces.face import Face
from facecraft.types import FloatArray, Frame

SelectionKind = Literal["all", "largest", "index", "reference"]
SELECTION_KINDS: tuple[str, ...] = get_args(SelectionKind)
SELECTION_HELP = "all | largest | index:N (N-th face from the left, 0-based) | reference:PHOTO"

REFERENCE_MAX_DISTANCE = 0.6
"""A face is the reference person when its identity distance is below this (dlib's same-person bound)."""

Embedder = Callable[[Frame, Face], FloatArray]


@dataclass(frozen=True, slots=True)
class SelectionPolicy:
    kind: SelectionKind
    index: int = 0
    reference_path: Path | None = None
    max_distance: float = REFERENCE_MAX_DISTANCE

    @classmethod
    def parse(cls, text: str) -> "SelectionPolicy":
        """Parse ``all``, ``largest``, ``index:N`` or ``reference:PHOTO``."""
        name, _, argument = text.strip().partition(":")
        if name == "all" and not argument:
            return cls("all")
        if name == "largest" and not argument:
            return cls("largest")
        if name == "index":
            if not argument.isdigit():
                raise SelectionError(
                    f"'{text}': index needs a face number, for example index:0 ({SELECTION_HELP})"
                )
            return cls("index", index=int(argument))
        if name == "reference":
            if not argument:
                raise SelectionError(f"'{text}': reference needs a photo, for example reference:me.jpg")
            return cls("reference", reference_path=Path(argument))
        raise SelectionError(f"unknown face selection '{text}'; choose {SELECTION_HELP}")


class FaceSelector:
    """Applies a policy frame after frame. Make one per video (or per image).

    ``reference_embedding`` and ``embed`` are needed only for the ``reference`` policy.
    """

    def __init__(
        self,
        policy: SelectionPolicy,
        reference_embedding: FloatArray | None = None,
        embed: Embedder | None = None,
        refresh_every: int = 15,
    ) -> None:
        if policy.kind == "reference" and (reference_embedding is None or embed is None):
            raise SelectionError("the reference policy needs the reference photo's identity and an embedder")
        self._policy = policy
        self._reference = reference_embedding
        self._embed = embed
        self._refresh_every = refresh_every
        self._chosen_track: int | None = None
        self._distances: dict[int, tuple[int, float]] = {}  # track id -> (frames since measured, distance)

    def select(self, frame_bgr: Frame, faces: list[Face]) -> list[Face]:
        if not faces or self._policy.kind == "all":
            return list(faces)
        if self._policy.kind == "reference":
            return self._select_reference(frame_bgr, faces)
        return self._select_sticky(faces)

    def distance_to_reference(self, frame_bgr: Frame, face: Face) -> float:
        """Identity distance of a face to the reference, measured again every few frames per track."""
        if self._reference is None or self._embed is None:
            raise SelectionError("no reference photo was given")
        key = face.track_id
        if key is not None and key in self._distances:
            age, distance = self._distances[key]
            if age < self._refresh_every:
                self._distances[key] = (age + 1, distance)
                return distance
        embedding = face.embedding if face.embedding is not None else self._embed(frame_bgr, face)
        distance = float(np.linalg.norm(embedding - self._reference))
        if key is not None:
            self._distances[key] = (1, distance)
        return distance

    def _select_reference(self, frame_bgr: Frame, faces: list[Face]) -> list[Face]:
        """The one face closest to the reference, if it is close enough to be the same person.

        dlib's descriptor puts some different people under 0.6 apart, so taking only the closest face
        (not every face under the bound) keeps a look-alike in the same frame from being chosen too.
        """
        distance, best = min((self.distance_to_reference(frame_bgr, f), i) for i, f in enumerate(faces))
        return [faces[best]] if distance < self._policy.max_distance else []

    def _select_sticky(self, faces: list[Face]) -> list[Face]:
        if self._chosen_track is not None:
            kept = [f for f in faces if f.track_id == self._chosen_track]
            if kept:
                return kept
        chosen = self._choose(faces)
        if chosen is None:
            return []
        self._chosen_track = chosen.track_id
        return [chosen]

    def _choose(self, faces: list[Face]) -> Face | None:
        if self._policy.kind == "largest":
            return max(faces, key=lambda f: f.area_px)
        ordered = sorted(faces, key=lambda f: float(f.bbox_xyxy[0]))
        return ordered[self._policy.index] if self._policy.index < len(ordered) else None
