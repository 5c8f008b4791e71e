"""C2PA Content Credentials: sign facecraft's outputs and read credentials back.

Signing (:func:`sign_credentials`, or the runner's :class:`C2paSignStep`) adds a manifest that says:

* what was done: ``c2pa.opened`` the target (the parent ingredient), ``c2pa.placed`` the source photo
  (a component), ``c2pa.edited`` with digital source type ``compositeWithTrainedAlgorithmicMedia``
  (an output with no target input is ``c2pa.created`` instead);
* by which tool: the claim generator ``facecraft`` and its version, also the actions' software agent;
* from which inputs and models, with which record: the assertion ``org.facecraft.provenance`` holds
  the inputs' names and SHA-256, the models and the provenance record id that the watermark carries.

MP4 (and M4V), MOV, JPEG, PNG and WebP get the manifest inside the file, signed in place atomically
(a temporary file beside the output, renamed over it). Other formats (WebM, MKV, ...) cannot hold
one: their manifest goes to a sidecar ``OUT.c2pa`` (``clip.webm`` -> ``clip.webm.c2pa``) that binds
the whole file by hash, and the user is told. Source thumbnails are never embedded (they would put
the source person's face in the output's metadata).

Reading (:func:`read_credentials`) gives a :class:`C2paReading` with one of four states:

* ``"valid"``: a manifest is present, its signature verifies and the file's bytes match its hashes.
  The signer need not be trusted: facecraft's local identity is a self-made CA that no one else
  trusts, so its outputs read as valid-but-untrusted everywhere; ``claims["trusted"]`` says whether
  the chain ended at a known anchor (on the machine that made it, the local CA is one).
* ``"tampered"``: the manifest is intact enough to read but the file (or the manifest) changed after
  signing: a hash no longer matches (for example one flipped byte in the video data).
* ``"invalid"``: a manifest is there but cannot be accepted: a broken or mismatched signature, an
  expired or unusable certificate, or a manifest (or a file holding one) that cannot be parsed.
  A file with no manifest that C2PA cannot parse at all raises CorruptMediaError instead.
* ``"absent"``: no manifest in the file and no sidecar beside it.

Nothing here touches the network: remote manifests are not fetched, OCSP is not queried and no
timestamp authority is used.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, get_args

import c2pa

from facecraft.errors import CorruptMediaError, FacecraftError
from facecraft.media.validate import check_input_file
from facecraft.provenance.identity import SigningIdentity
from facecraft.provenance.record import TOOL_NAME, InputFile, ProvenanceRecord

C2paState = Literal["valid", "tampered", "invalid", "absent"]
C2PA_STATES: tuple[C2paState, ...] = get_args(C2paState)

COMPOSITE_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
FACECRAFT_ASSERTION = "org.facecraft.provenance"
SIDECAR_SUFFIX = ".c2pa"

EMBEDDED_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}
"""Output suffix -> MIME type, for the formats that carry their manifest inside the file."""

SIDECAR_TYPES: dict[str, str] = {".webm": "video/webm", ".mkv": "video/x-matroska"}
"""Known formats whose manifest goes to a sidecar (any other unknown suffix does too)."""

_UNTRUSTED_CODES = frozenset({"signingCredential.untrusted"})
"""Failures that only say the signer is not on a trust list: expected for local identities."""
_MANIFEST_LABEL = bytes.fromhex("6332706100110010800000aa00389b71")
"""The JUMBF type UUID of a C2PA manifest store (it starts every embedded manifest store)."""
_SCAN_CHUNK_BYTES = 1 << 20
_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "builder": {"thumbnail": {"enabled": False}},
}


class CredentialsError(FacecraftError):
    """Content Credentials cannot be written."""


@dataclass(frozen=True, slots=True)
class SignResult:
    path: Path
    sidecar: Path | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class C2paClaims:
    """What the active manifest says, in a few fields (``to_json`` gives the ``claims`` object)."""

    generator: str | None
    generator_version: str | None
    actions: tuple[str, ...]
    digital_source_type: str | None
    ingredients: tuple[Mapping[str, str | None], ...]
    models: tuple[str, ...]
    record_id: str | None
    signer: str | None
    trusted: bool
    embedded: bool
    problems: tuple[str, ...] = ()

    @property
    def by_facecraft(self) -> bool:
        return self.generator == TOOL_NAME

    def to_json(self) -> dict[str, object]:
        return {
            "generator": self.generator,
            "generator_version": self.generator_version,
            "actions": list(self.actions),
            "digital_source_type": self.digital_source_type,
            "ingredients": [dict(item) for item in self.ingredients],
            "models": list(self.models),
            "record_id": self.record_id,
            "signer": self.signer,
            "trusted": self.trusted,
            "embedded": self.embedded,
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True)
class C2paReading:
    present: bool
    state: C2paState
    claims: C2paClaims | None = None

    def __post_init__(self) -> None:
        if self.state not in C2PA_STATES:
            raise ValueError(f"state must be one of {C2PA_STATES}, got {self.state!r}")
        if self.present == (self.state == "absent"):
            raise ValueError(f"present={self.present} contradicts state {self.state!r}")

    @property
    def valid_from_facecraft(self) -> bool:
        """Valid credentials whose claim generator is facecraft (whoever's identity signed them)."""
        return self.state == "valid" and self.claims is not None and self.claims.by_facecraft

    def to_json(self) -> dict[str, object]:
        return {
            "present": self.present,
            "state": self.state,
            "claims": None if self.claims is None else self.claims.to_json(),
        }


# --- signing ---------------------------------------------------------------------------------------


class C2paSignStep:
    """Output step: signs the finished output with ``identity``, describing it by ``record``."""

    def __init__(self, identity: SigningIdentity, record: ProvenanceRecord) -> None:
        self.identity = identity
        self.record = record

    def finish(self, output: Path) -> list[str]:
        return list(sign_credentials(output, self.identity, self.record).notes)


def sign_credentials(path: Path | str, identity: SigningIdentity, record: ProvenanceRecord) -> SignResult:
    """Embed signed credentials in ``path`` (in place, atomically), or write a sidecar when it cannot."""
    path = check_input_file(path)
    mime = EMBEDDED_TYPES.get(path.suffix.lower())
    manifest = build_manifest(record, title=path.name, mime=mime or _mime_for(path.name))
    with _signing_errors(path), _signer(identity) as signer:
        if mime is not None:
            _sign_embedded(path, mime, manifest, signer)
            return SignResult(path=path, sidecar=None)
        sidecar = _sign_sidecar(path, manifest, signer)
    note = (
        f"'{path.name}' cannot hold Content Credentials inside, so they were written beside it to "
        f"'{sidecar.name}': keep the two files together. The invisible watermark is in the pixels "
        "either way; write .mp4 or .mov to embed the credentials."
    )
    return SignResult(path=path, sidecar=sidecar, notes=(note,))


def build_manifest(record: ProvenanceRecord, title: str, mime: str) -> dict[str, object]:
    """The manifest definition c2pa-python signs (claim generator, ingredients, actions, our assertion)."""
    ingredients, parent, components = _ingredients(record.inputs)
    agent = {"name": TOOL_NAME, "version": record.version}
    return {
        "claim_generator_info": [{"name": TOOL_NAME, "version": record.version}],
        "title": title,
        "format": mime,
        "ingredients": ingredients,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": _actions(parent, components, agent, record)}},
            {"label": FACECRAFT_ASSERTION, "data": _facecraft_assertion(record)},
        ],
    }


def sidecar_path(path: Path) -> Path:
    """``clip.webm`` -> ``clip.webm.c2pa``."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _ingredients(
    inputs: Sequence[InputFile],
) -> tuple[list[dict[str, str]], str | None, list[str]]:
    """Ingredient definitions (by name and format only: no input is re-read or copied)."""
    ingredients: list[dict[str, str]] = []
    parent: str | None = None
    components: list[str] = []
    for index, item in enumerate(inputs):
        label = f"input{index}"
        is_parent = item.role == "target" and parent is None
        ingredients.append(
            {
                "title": item.name,
                "format": _mime_for(item.name),
                "relationship": "parentOf" if is_parent else "componentOf",
                "label": label,
            }
        )
        if is_parent:
            parent = label
        else:
            components.append(label)
    return ingredients, parent, components


def _actions(
    parent: str | None, components: list[str], agent: dict[str, str], record: ProvenanceRecord
) -> list[dict[str, object]]:
    change: dict[str, object] = {
        "action": "c2pa.edited" if parent is not None else "c2pa.created",
        "digitalSourceType": COMPOSITE_SOURCE_TYPE,
        "softwareAgent": agent,
        "description": "face swap by facecraft",
        "parameters": {"org.facecraft.models": list(record.models)},
    }
    actions: list[dict[str, object]] = []
    if parent is not None:
        actions.append({"action": "c2pa.opened", "parameters": {"ingredientIds": [parent]}})
    else:
        actions.append(change)
    actions.extend(
        {"action": "c2pa.placed", "parameters": {"ingredientIds": [label]}} for label in components
    )
    if parent is not None:
        actions.append(change)
    return actions


def _facecraft_assertion(record: ProvenanceRecord) -> dict[str, object]:
    return {
        "record_id": record.record_id_hex,
        "tool": record.tool,
        "version": record.version,
        "created_utc": record.created_utc,
        "inputs": [item.to_json() for item in record.inputs],
        "models": list(record.models),
    }


def _sign_embedded(path: Path, mime: str, manifest: dict[str, object], signer: c2pa.Signer) -> None:
    tmp = _temp_beside(path)
    try:
        with (
            path.open("rb") as source,
            tmp.open("w+b") as dest,
            c2pa.Builder(manifest, _context()) as builder,
        ):
            builder.sign(signer, mime, source, dest)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _sign_sidecar(path: Path, manifest: dict[str, object], signer: c2pa.Signer) -> Path:
    """Sign a detached manifest whose data hash covers the whole file; write it to ``OUT.c2pa``."""
    sidecar = sidecar_path(path)
    tmp = _temp_beside(sidecar)
    try:
        with path.open("rb") as source, c2pa.Builder(manifest, _context()) as builder:
            builder.set_no_embed()
            manifest_bytes = builder.sign(signer, _mime_for(path.name), source, _DiscardStream())
        tmp.write_bytes(manifest_bytes)
        tmp.replace(sidecar)
    finally:
        tmp.unlink(missing_ok=True)
    return sidecar


@contextlib.contextmanager
def _signer(identity: SigningIdentity) -> Iterator[c2pa.Signer]:
    info = c2pa.C2paSignerInfo(identity.alg.encode(), identity.chain_pem, identity.private_key_pem, None)
    with c2pa.Signer.from_info(info) as signer:
        yield signer


@contextlib.contextmanager
def _signing_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except c2pa.C2paError as error:
        raise CredentialsError(
            f"could not sign Content Credentials into '{path}' ({error}). "
            "If you passed your own certificate, check it is CA-issued with a document-signing usage."
        ) from error
    except OSError as error:
        raise CredentialsError(
            f"could not write Content Credentials for '{path}' ({error}). Check the folder is writable."
        ) from error


class _DiscardStream:
    """A write-only sink: c2pa copies the asset to its destination even when not embedding."""

    def __init__(self) -> None:
        self._position = 0
        self._size = 0

    def read(self, size: int = -1) -> bytes:
        return b""

    def write(self, data: bytes) -> int:
        self._position += len(data)
        self._size = max(self._size, self._position)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None


# --- reading ---------------------------------------------------------------------------------------


def read_credentials(path: Path | str, trust_anchor_pem: bytes | None = None) -> C2paReading:
    """Read and validate the credentials in ``path`` (or its sidecar); see the module doc for states.

    ``trust_anchor_pem``: root certificates (PEM) to trust (none by default); pass the local CA so
    this machine's own outputs read as trusted. Trust only sets ``claims["trusted"]``, not the state.
    """
    path = check_input_file(path)
    context = _context(trust_anchor_pem)
    try:
        with path.open("rb") as stream:
            store = _read_store(path, stream, context)
    except c2pa.C2paError as error:
        embedded = _holds_manifest_bytes(path)
        if embedded or sidecar_path(path).is_file():
            claims = _broken_claims(str(error), embedded=embedded)
            return C2paReading(present=True, state="invalid", claims=claims)
        raise CorruptMediaError(path, f"its structure cannot be parsed: {error}") from error
    if store is None:
        return C2paReading(present=False, state="absent")
    return _reading_from_store(*store)


def _read_store(path: Path, stream: IO[bytes], context: c2pa.Context) -> tuple[dict[str, Any], bool] | None:
    """The parsed manifest store and whether it was embedded, or None when there is none."""
    mime = EMBEDDED_TYPES.get(path.suffix.lower())
    if mime is not None:
        with contextlib.suppress(c2pa.C2paError.NotSupported):
            reader = c2pa.Reader.try_create(mime, stream, None, context)
            if reader is not None:
                with reader:
                    return json.loads(reader.json()), True
        stream.seek(0)
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return None
    with c2pa.Reader(_mime_for(path.name), stream, sidecar.read_bytes(), context) as reader:
        return json.loads(reader.json()), False


def _reading_from_store(store: dict[str, Any], embedded: bool) -> C2paReading:
    manifest = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    results = store.get("validation_results", {}).get("activeManifest", {})
    failures = [item.get("code", "") for item in results.get("failure", [])]
    problems = tuple(code for code in failures if code not in _UNTRUSTED_CODES)
    state = _state(problems, store.get("validation_state"))
    trusted = state == "valid" and not set(failures) & _UNTRUSTED_CODES
    claims = _claims(manifest, trusted=trusted, embedded=embedded, problems=problems)
    return C2paReading(present=True, state=state, claims=claims)


def _state(problems: Sequence[str], validation_state: object) -> C2paState:
    if any(code.endswith(".mismatch") for code in problems):
        return "tampered"
    if problems or validation_state not in ("Valid", "Trusted"):
        return "invalid"
    return "valid"


def _claims(
    manifest: Mapping[str, Any], *, trusted: bool, embedded: bool, problems: tuple[str, ...]
) -> C2paClaims:
    assertions = {item.get("label"): item.get("data", {}) for item in manifest.get("assertions", [])}
    actions = _action_list(assertions)
    ours = assertions.get(FACECRAFT_ASSERTION, {})
    generator = (manifest.get("claim_generator_info") or [{}])[0]
    signature = manifest.get("signature_info", {})
    return C2paClaims(
        generator=generator.get("name"),
        generator_version=generator.get("version"),
        actions=tuple(str(action.get("action")) for action in actions),
        digital_source_type=next((a["digitalSourceType"] for a in actions if "digitalSourceType" in a), None),
        ingredients=_ingredient_claims(ours, manifest),
        models=tuple(str(model) for model in ours.get("models", [])),
        record_id=ours.get("record_id"),
        signer=_signer_name(signature),
        trusted=trusted,
        embedded=embedded,
        problems=problems,
    )


def _action_list(assertions: Mapping[Any, Any]) -> list[dict[str, Any]]:
    for label in ("c2pa.actions.v2", "c2pa.actions"):
        if label in assertions:
            return [a for a in assertions[label].get("actions", []) if isinstance(a, dict)]
    return []


def _ingredient_claims(
    ours: Mapping[str, Any], manifest: Mapping[str, Any]
) -> tuple[dict[str, str | None], ...]:
    """Inputs with their SHA-256 from our assertion; else the manifest's ingredients (no hash)."""
    if ours.get("inputs"):
        return tuple(
            {"role": item.get("role"), "name": item.get("name"), "sha256": item.get("sha256")}
            for item in ours["inputs"]
        )
    return tuple(
        {"role": item.get("relationship"), "name": item.get("title"), "sha256": None}
        for item in manifest.get("ingredients", [])
    )


def _signer_name(signature: Mapping[str, Any]) -> str | None:
    name, issuer = signature.get("common_name"), signature.get("issuer")
    if name and issuer:
        return f"{name} ({issuer})"
    return name or issuer


def _holds_manifest_bytes(path: Path) -> bool:
    """Whether the file contains a C2PA manifest store box (so a read error concerns credentials)."""
    overlap = len(_MANIFEST_LABEL) - 1
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_CHUNK_BYTES):
            if _MANIFEST_LABEL in tail + chunk:
                return True
            tail = chunk[-overlap:]
    return False


def _broken_claims(detail: str, *, embedded: bool) -> C2paClaims:
    return C2paClaims(
        generator=None,
        generator_version=None,
        actions=(),
        digital_source_type=None,
        ingredients=(),
        models=(),
        record_id=None,
        signer=None,
        trusted=False,
        embedded=embedded,
        problems=(f"unreadable manifest: {detail}",),
    )


# --- helpers ---------------------------------------------------------------------------------------


def _context(trust_anchor_pem: bytes | None = None) -> c2pa.Context:
    settings: dict[str, Any] = {key: dict(value) for key, value in _SETTINGS.items()}
    if trust_anchor_pem:
        settings["trust"] = {"user_anchors": trust_anchor_pem.decode("ascii")}
    return c2pa.Context.from_dict(settings)


def _mime_for(name: str) -> str:
    suffix = Path(name).suffix.lower()
    known = EMBEDDED_TYPES.get(suffix) or SIDECAR_TYPES.get(suffix)
    return known or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
