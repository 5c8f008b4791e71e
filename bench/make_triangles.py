"""Make the face mesh triangulation that the mesh swapper ships (src/facecraft/swap/data/*.json).

    .venv/bin/python bench/make_triangles.py [--media ../shared/media] [--out src/facecraft/swap/data/...]

From real faces (every 15th frame of the videos in ../shared/media, fitted with our face mesh):

1. Mirror partners: each photo is also fitted mirrored; mirroring that fit back puts point i where its
   partner is on the original face. Averaged over frames, an assignment (Hungarian method) pairs every
   point with one partner, and the pairs must form an involution.
2. Frontal layout: each fit is turned so its plane of symmetry is upright and faces the viewer (the
   plane's normal from the partner differences; chin to forehead vertical), scaled to 1 between the
   outer eye corners, and the median over frames is made exactly symmetric.
3. Triangles: Delaunay of the layout (cv2.Subdiv2D), then edge flips until the face oval, the inner lips
   and both eyelid margins are edges (a constrained triangulation). Triangles outside the oval are
   dropped; those inside the inner lips are the mouth opening. Then interior edges are flipped where
   that makes fewer triangles turn over on the real near-frontal faces. The eye openings are fanned
   from the iris centres.

Prints what it found; writes the JSON only when every check passes.
"""

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import MESH_POINTS
from facecraft.media.reader import FrameReader
from facecraft.pipeline.builder import build_analyzer
from facecraft.swap.triangles import (
    EYE_CENTERS,
    FACE_OVAL,
    LEFT_EYELIDS,
    LIPS_INNER,
    RIGHT_EYELIDS,
    TOPOLOGY_FILE,
    MeshTopology,
    signed_areas,
    topology_to_json,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MEDIA = ROOT.parent / "shared" / "media"
DEFAULT_OUT = ROOT / "src" / "facecraft" / "swap" / "data" / TOPOLOGY_FILE
VIDEOS = ("d0", "d3", "d10", "d13", "d18", "d20", "s18")
FRAME_STEP = 15
FRONTAL_YAW_DEG = 8.0
"""Frames whose face turns less than this are used to choose between triangulations."""

Array = npt.NDArray[np.float64]
Tri = tuple[int, int, int]
Edge = tuple[int, int]


def collect_fits(media: Path, analyzer: FaceAnalyzer) -> list[tuple[Array, Array]]:
    """(fit, mirrored fit mapped back) per sampled frame with exactly one face; 468 x 3 each."""
    fits: list[tuple[Array, Array]] = []
    for name in VIDEOS:
        with FrameReader(media / "videos" / f"{name}.mp4") as reader:
            for frame in reader:
                if frame.index % FRAME_STEP:
                    continue
                image = frame.image_bgr
                faces = analyzer.analyze(image)
                mirrored = analyzer.analyze(np.ascontiguousarray(image[:, ::-1]))
                if len(faces) != 1 or len(mirrored) != 1:
                    continue
                back = mirrored[0].landmarks_478[:MESH_POINTS].astype(np.float64)
                back[:, 0] = image.shape[1] - 1 - back[:, 0]
                fits.append((faces[0].landmarks_478[:MESH_POINTS].astype(np.float64), back))
    return fits


def hungarian(cost: Array) -> npt.NDArray[np.int64]:
    """Minimum-cost assignment for a square cost matrix (shortest augmenting paths, O(n^3))."""
    n = cost.shape[0]
    padded = np.zeros((n + 1, n + 1))
    padded[1:, 1:] = cost
    u, v = np.zeros(n + 1), np.zeros(n + 1)
    owner = np.zeros(n + 1, dtype=np.int64)  # owner[j]: row assigned to column j (1-based; 0 = none)
    way = np.zeros(n + 1, dtype=np.int64)
    for row in range(1, n + 1):
        owner[0] = row
        column = 0
        min_slack = np.full(n + 1, np.inf)
        used = np.zeros(n + 1, dtype=bool)
        while True:
            used[column] = True
            current_row = owner[column]
            slack = padded[current_row, 1:] - u[current_row] - v[1:]
            free = ~used[1:]
            better = free & (slack < min_slack[1:])
            min_slack[1:][better] = slack[better]
            way[1:][better] = column
            candidates = np.where(free, min_slack[1:], np.inf)
            next_column = int(candidates.argmin()) + 1
            delta = candidates[next_column - 1]
            u[owner[used]] += delta
            v[used] -= delta
            min_slack[1:][free] -= delta
            column = next_column
            if owner[column] == 0:
                break
        while column:
            previous = way[column]
            owner[column] = owner[previous]
            column = previous
    assignment = np.zeros(n, dtype=np.int64)
    assignment[owner[1:] - 1] = np.arange(n)
    return assignment


def mirror_pairs(fits: list[tuple[Array, Array]]) -> npt.NDArray[np.int64]:
    """Each point's mirror partner: back[i] lands on the original's partner of i."""
    cost = np.zeros((MESH_POINTS, MESH_POINTS))
    for fit, back in fits:
        scale = np.linalg.norm(fit[33, :2] - fit[263, :2])
        cost += np.linalg.norm(back[:, np.newaxis, :2] - fit[np.newaxis, :, :2], axis=2) / scale
    cost /= len(fits)
    pairs = hungarian((cost + cost.T) / 2)
    if not np.array_equal(pairs[pairs], np.arange(MESH_POINTS)):
        raise RuntimeError("the mirror assignment is not an involution; add frames or check the mesh")
    return pairs


def symmetry_frame(fit: Array, pairs: npt.NDArray[np.int64]) -> Array:
    """Rotation (rows: x, y, z) that makes the face's plane of symmetry upright and face the viewer."""
    moved = pairs != np.arange(MESH_POINTS)
    _, _, vt = np.linalg.svd(fit[moved] - fit[pairs[moved]], full_matrices=False)
    x_axis = vt[0] if np.dot(vt[0], fit[263] - fit[33]) > 0 else -vt[0]
    up = fit[10] - fit[152]
    up -= x_axis * np.dot(up, x_axis)
    y_axis = -up / np.linalg.norm(up)
    return np.stack([x_axis, y_axis, np.cross(x_axis, y_axis)])


def frontal_layout(fits: list[tuple[Array, Array]], pairs: npt.NDArray[np.int64]) -> tuple[Array, Array]:
    """The symmetric frontal layout (468 x 3) and the yaw of each fit in degrees."""
    layouts, yaws = [], []
    for fit, _ in fits:
        rotation = symmetry_frame(fit, pairs)
        yaws.append(float(np.degrees(np.arctan2(rotation[0, 2], rotation[0, 0]))))
        points = (fit - fit.mean(axis=0)) @ rotation.T
        layouts.append(points / np.linalg.norm(points[263] - points[33]))
    median = np.median(np.stack(layouts), axis=0)
    mirrored = median[pairs] * np.array([-1.0, 1.0, 1.0])
    layout = (median + mirrored) / 2
    return layout - layout.mean(axis=0), np.asarray(yaws)


def delaunay(points: Array) -> list[Tri]:
    """Delaunay triangles of 2D points, as index triples."""
    scaled = points * 1000.0
    x0, y0 = np.floor(scaled.min(axis=0)) - 10
    x1, y1 = np.ceil(scaled.max(axis=0)) + 10
    subdiv = cv2.Subdiv2D((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    for x, y in scaled:
        subdiv.insert((float(x), float(y)))
    triangles: list[Tri] = []
    for corners in np.asarray(subdiv.getTriangleList(), dtype=np.float64).reshape(-1, 3, 2):
        distance = np.linalg.norm(scaled[np.newaxis] - corners[:, np.newaxis], axis=2)
        nearest = distance.argmin(axis=1)
        if distance[np.arange(3), nearest].max() < 1e-2:  # drop triangles on the outer bounding vertices
            triangles.append((int(nearest[0]), int(nearest[1]), int(nearest[2])))
    return triangles


def orient(points: Array, triangles: list[Tri]) -> list[Tri]:
    """Each triangle ordered to positive signed area."""
    out: list[Tri] = []
    for a, b, c in triangles:
        area = (points[b, 0] - points[a, 0]) * (points[c, 1] - points[a, 1]) - (
            points[b, 1] - points[a, 1]
        ) * (points[c, 0] - points[a, 0])
        out.append((a, b, c) if area > 0 else (a, c, b))
    return out


def _cross(o: Array, a: Array, b: Array) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def crosses(points: Array, first: Edge, second: Edge) -> bool:
    """Whether two segments cross properly (sharing an end does not count)."""
    if len({*first, *second}) < 4:
        return False
    a, b = points[first[0]], points[first[1]]
    c, d = points[second[0]], points[second[1]]
    return _cross(a, b, c) * _cross(a, b, d) < 0 and _cross(c, d, a) * _cross(c, d, b) < 0


def edge_key(a: int, b: int) -> Edge:
    return (a, b) if a < b else (b, a)


def edge_map(triangles: list[Tri]) -> dict[Edge, list[int]]:
    edges: dict[Edge, list[int]] = {}
    for k, (a, b, c) in enumerate(triangles):
        for edge in (edge_key(a, b), edge_key(b, c), edge_key(c, a)):
            edges.setdefault(edge, []).append(k)
    return edges


def flip(triangles: list[Tri], edge: Edge, k1: int, k2: int) -> tuple[Tri, Tri]:
    """The two triangles that replace k1 and k2 when their shared edge is flipped."""
    p = next(v for v in triangles[k1] if v not in edge)
    q = next(v for v in triangles[k2] if v not in edge)
    return (p, q, edge[0]), (p, q, edge[1])


def insert_constraints(points: Array, triangles: list[Tri], constraints: list[Edge]) -> list[Tri]:
    """Flip edges until every constraint segment is an edge of the triangulation."""
    triangles = list(triangles)
    for a, b in constraints:
        for _ in range(10_000):
            edges = edge_map(triangles)
            if edge_key(a, b) in edges:
                break
            for edge, owners in edges.items():
                if len(owners) != 2 or not crosses(points, (a, b), edge):
                    continue
                first, second = flip(triangles, edge, owners[0], owners[1])
                p, q = first[0], first[1]
                if crosses(points, (p, q), edge):  # the quad is convex: the flip is valid
                    triangles[owners[0]], triangles[owners[1]] = first, second
                    break
            else:
                raise RuntimeError(f"cannot make {a}-{b} an edge")
        else:
            raise RuntimeError(f"inserting {a}-{b} did not converge")
    return orient(points, triangles)


def loop_edges(loop: tuple[int, ...]) -> list[Edge]:
    return [edge_key(loop[i], loop[(i + 1) % len(loop)]) for i in range(len(loop))]


def inside(points: Array, loop: tuple[int, ...], xy: Array) -> bool:
    polygon = points[list(loop)].astype(np.float32)
    return cv2.pointPolygonTest(polygon, (float(xy[0]), float(xy[1])), False) > 0


def badness(frames: Array, triangles: list[Tri]) -> float:
    """Turned-over triangles over the frames, plus a little for slivers."""
    tris = np.asarray(triangles)
    a, b, c = frames[:, tris[:, 0]], frames[:, tris[:, 1]], frames[:, tris[:, 2]]
    area = (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (
        c[..., 0] - a[..., 0]
    )
    longest = np.maximum.reduce([((b - a) ** 2).sum(-1), ((c - b) ** 2).sum(-1), ((a - c) ** 2).sum(-1)])
    quality = area / longest
    return float((quality <= 0).sum() + 0.01 * np.clip(0.1 - quality, 0.0, None).sum())


def improve(points: Array, triangles: list[Tri], fixed: set[Edge], frames: Array) -> list[Tri]:
    """Greedy edge flips (kept valid in the layout) that turn fewer triangles over on real faces."""
    triangles = list(triangles)
    for _ in range(50):
        changed = False
        for edge, owners in edge_map(triangles).items():
            if len(owners) != 2 or edge in fixed:
                continue
            k1, k2 = owners
            if not (set(edge) <= set(triangles[k1]) and set(edge) <= set(triangles[k2])):
                continue  # an earlier flip in this pass changed them
            first, second = flip(triangles, edge, k1, k2)
            if not crosses(points, (first[0], first[1]), edge):
                continue
            new = orient(points, [first, second])
            if badness(frames, new) < badness(frames, [triangles[k1], triangles[k2]]) - 1e-9:
                triangles[k1], triangles[k2] = new[0], new[1]
                changed = True
        if not changed:
            break
    return triangles


def triangulate(layout: Array, frames: Array) -> tuple[list[Tri], list[Tri], list[Tri]]:
    """Face, mouth-opening and eye-opening triangles."""
    points = layout[:, :2]
    loops = (LIPS_INNER, RIGHT_EYELIDS, LEFT_EYELIDS, FACE_OVAL)
    constraints = [edge for loop in loops for edge in loop_edges(loop)]
    triangles = insert_constraints(points, orient(points, delaunay(points)), constraints)
    triangles = [t for t in triangles if inside(points, FACE_OVAL, points[list(t)].mean(axis=0))]
    face, mouth = [], []
    for triangle in triangles:
        centre = points[list(triangle)].mean(axis=0)
        # Everything inside the inner lips is the opening, including triangles on the few points of the
        # mesh's second inner-lip row (42, 183, 272, 407) that the layout puts just inside it: counted as
        # face, they bridged the opening's corners and drew the source's lips over the target's open mouth.
        if inside(points, LIPS_INNER, centre):
            mouth.append(triangle)
        elif not any(
            set(triangle) <= set(loop) and inside(points, loop, centre)
            for loop in (RIGHT_EYELIDS, LEFT_EYELIDS)
        ):
            face.append(triangle)
    face = improve(points, face, set(constraints), frames)
    eyes: list[Tri] = []
    for centre_index, loop in zip(EYE_CENTERS, (RIGHT_EYELIDS, LEFT_EYELIDS), strict=True):
        centre = points[list(loop)].mean(axis=0)
        extended = np.vstack([points, np.zeros((centre_index + 1 - len(points), 2))])
        extended[centre_index] = centre
        fan = [(centre_index, loop[i], loop[(i + 1) % len(loop)]) for i in range(len(loop))]
        eyes += orient(extended, fan)
    return face, mouth, eyes


def check(topology: MeshTopology, frames: Array) -> list[str]:
    """Problems that must stop the file from being written (empty when all is well)."""
    problems = []
    layout_xy = topology.layout_468[:, :2]
    for name in ("face_triangles", "mouth_triangles"):
        if (signed_areas(layout_xy, getattr(topology, name)) <= 0).any():
            problems.append(f"{name}: a triangle has no positive area in the layout")
    oval = cv2.contourArea(layout_xy[list(FACE_OVAL)].astype(np.float32))
    eyes = sum(
        cv2.contourArea(layout_xy[list(loop)].astype(np.float32)) for loop in (RIGHT_EYELIDS, LEFT_EYELIDS)
    )
    covered = float(signed_areas(layout_xy, topology.face_triangles).sum() / 2)
    covered += float(signed_areas(layout_xy, topology.mouth_triangles).sum() / 2)
    if abs(covered + eyes - oval) > 1e-3 * oval:
        problems.append(f"triangles cover {covered + eyes:.4f} of the oval's {oval:.4f}")
    flipped = [(signed_areas(f, topology.face_triangles) <= 0).sum() for f in frames]
    print(f"turned-over face triangles on {len(frames)} near-frontal frames: median {np.median(flipped):.0f}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not (args.media / "videos").is_dir():
        print(f"no media at {args.media}; the triangulation is made from real faces", file=sys.stderr)
        return 1
    fits = collect_fits(args.media, build_analyzer())
    pairs = mirror_pairs(fits)
    layout, yaws = frontal_layout(fits, pairs)
    frames = np.stack(
        [fit[:, :2] for (fit, _), yaw in zip(fits, yaws, strict=True) if abs(yaw) < FRONTAL_YAW_DEG]
    )
    face, mouth, eyes = triangulate(layout, frames)
    topology = MeshTopology(
        layout_468=layout.astype(np.float32),
        mirror_468=pairs.astype(np.int32),
        face_triangles=np.asarray(face, dtype=np.int32),
        mouth_triangles=np.asarray(mouth, dtype=np.int32),
        eye_triangles=np.asarray(eyes, dtype=np.int32),
    )
    midline = int((pairs == np.arange(MESH_POINTS)).sum())
    print(f"{len(fits)} frames, {midline} midline points, {len(frames)} near-frontal")
    print(f"triangles: face {len(face)}, mouth {len(mouth)}, eyes {len(eyes)}")
    problems = check(topology, frames)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    description = (
        "Triangulation of MediaPipe's 468-point face mesh for facecraft's mesh swapper; "
        "made by bench/make_triangles.py from real faces (see its docstring)."
    )
    args.out.write_text(topology_to_json(topology, description), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
