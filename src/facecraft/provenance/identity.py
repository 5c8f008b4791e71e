"""The signing identity for Content Credentials: a certificate chain and its private key.

By default facecraft makes a *local* identity on first use, under the user's config directory
(``$FACECRAFT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/facecraft``, else ``~/.config/facecraft``)::

    identity/ca.pem       the local CA's certificate (self-signed, 10 years); a trust anchor
    identity/ca.key       the CA's private key (mode 0600), kept to renew the signer
    identity/signer.pem   the signing (leaf) certificate, issued by the CA, 2 years,
                          key usage digitalSignature, extended key usage emailProtection
    identity/signer.key   the signer's private key (mode 0600)

All keys are ECDSA P-256 (ES256). The chain handed to the C2PA signer is the leaf alone: the root
(the CA) is left out, as C2PA asks. Readers elsewhere see a valid signature from an untrusted
("facecraft local") issuer; on this machine the CA is also known as a trust anchor.

People and organisations with a real certificate pass its PEM files instead
(:func:`load_identity`); the chain may hold intermediates, and a self-signed root at its end is
dropped.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from facecraft.errors import FacecraftError

SigningAlg = Literal["es256", "es384", "es512", "ps256", "ed25519"]
IdentitySource = Literal["local", "user"]

IDENTITY_DIR = "identity"
CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"
LEAF_CERT_FILE = "signer.pem"
LEAF_KEY_FILE = "signer.key"
LOCAL_ORGANISATION = "facecraft local identity"
CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=730)
RENEW_BEFORE = dt.timedelta(days=30)
"""A local leaf certificate with less than this left is replaced by a new one from the same CA."""
SIGNING_USAGES = frozenset(
    {
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        ObjectIdentifier("1.3.6.1.5.5.7.3.36"),  # id-kp-documentSigning
        ObjectIdentifier("1.3.6.1.4.1.62558.2.1"),  # c2pa-kp-claimSigning
    }
)
"""Extended key usages C2PA accepts on a signing certificate (one of them must be present)."""
_BACKDATE = dt.timedelta(minutes=5)  # tolerate small clock differences between signer and reader
_KEY_MODE = 0o600
_DIR_MODE = 0o700


class SigningIdentityError(FacecraftError):
    """A signing certificate or key cannot be read or used."""


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    """What a C2PA signer needs: the chain (leaf first, no root), the leaf's key and its algorithm."""

    chain_pem: bytes
    private_key_pem: bytes
    alg: SigningAlg
    source: IdentitySource
    trust_anchor_pem: bytes | None = None
    """The root that issued the chain, when known (the local CA): readers on this machine trust it."""

    @property
    def leaf(self) -> x509.Certificate:
        return x509.load_pem_x509_certificates(self.chain_pem)[0]


def resolve_config_dir(config_dir: Path | None = None) -> Path:
    """facecraft's config directory: ``config_dir`` if given, else from the environment (see module doc)."""
    if config_dir is not None:
        return Path(config_dir)
    explicit = os.environ.get("FACECRAFT_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "facecraft"


def local_identity(config_dir: Path | None = None, now: dt.datetime | None = None) -> SigningIdentity:
    """The local identity under ``config_dir``, created on first use and its leaf renewed near expiry."""
    folder = resolve_config_dir(config_dir) / IDENTITY_DIR
    now = now or dt.datetime.now(dt.UTC)
    if not (folder / CA_CERT_FILE).is_file():
        _create_local_identity(folder, now)
    identity = _read_local_identity(folder)
    if identity.leaf.not_valid_after_utc - now < RENEW_BEFORE:
        _renew_leaf(folder, now)
        identity = _read_local_identity(folder)
    return identity


def local_trust_anchor(config_dir: Path | None = None) -> bytes | None:
    """The local CA certificate (PEM) if this machine has a local identity; never creates one."""
    path = resolve_config_dir(config_dir) / IDENTITY_DIR / CA_CERT_FILE
    return path.read_bytes() if path.is_file() else None


def load_identity(cert_path: Path, key_path: Path) -> SigningIdentity:
    """A person's own certificate chain (PEM, leaf first) and private key (PEM, unencrypted)."""
    chain = _read_chain(Path(cert_path))
    key = _read_private_key(Path(key_path))
    _check_key_matches(chain[0], key, Path(cert_path), Path(key_path))
    _check_leaf(chain[0], Path(cert_path))
    root = chain[-1] if len(chain) > 1 and _is_self_signed(chain[-1]) else None
    kept = [cert for cert in chain if cert is not root]
    return SigningIdentity(
        chain_pem=b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in kept),
        private_key_pem=_key_pem(key),
        alg=_alg_for(key, Path(key_path)),
        source="user",
        trust_anchor_pem=root.public_bytes(serialization.Encoding.PEM) if root is not None else None,
    )


# --- creating the local identity -------------------------------------------------------------------


def _create_local_identity(folder: Path, now: dt.datetime) -> None:
    """Write CA and leaf into a private temporary folder, then rename it into place (atomic)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.partial")
    staging.mkdir(mode=_DIR_MODE)
    try:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _make_ca(ca_key, now)
        _write_pem(staging / CA_CERT_FILE, ca_cert.public_bytes(serialization.Encoding.PEM))
        _write_key(staging / CA_KEY_FILE, ca_key)
        _write_leaf(staging, ca_cert, ca_key, now)
        staging.rename(folder)
    except OSError as error:
        if (folder / CA_CERT_FILE).is_file():  # another process made it first: use theirs
            return
        raise SigningIdentityError(
            f"could not create the local signing identity in '{folder}' ({error}). "
            "Check that the config directory is writable, or pass your own certificate and key."
        ) from error
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _renew_leaf(folder: Path, now: dt.datetime) -> None:
    ca_cert = x509.load_pem_x509_certificate((folder / CA_CERT_FILE).read_bytes())
    ca_key = _read_private_key(folder / CA_KEY_FILE)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise SigningIdentityError(f"the local CA key in '{folder}' is not an EC key; delete the folder.")
    _write_leaf(folder, ca_cert, ca_key, now)


def _write_leaf(
    folder: Path, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, now: dt.datetime
) -> None:
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = _make_leaf(leaf_key.public_key(), ca_cert, ca_key, now)
    _write_key(folder / LEAF_KEY_FILE, leaf_key)
    _write_pem(folder / LEAF_CERT_FILE, leaf_cert.public_bytes(serialization.Encoding.PEM))


def _local_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, LOCAL_ORGANISATION),
        ]
    )


def _make_ca(key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> x509.Certificate:
    name = _local_name(f"facecraft local CA {secrets.token_hex(3)}")
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _make_leaf(
    public_key: ec.EllipticCurvePublicKey,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
) -> x509.Certificate:
    not_after = min(now + LEAF_VALIDITY, ca_cert.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(_local_name("facecraft local signer"))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: CertificateIssuerPrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_key(path: Path, key: CertificateIssuerPrivateKeyTypes) -> None:
    """Write a private key readable by its owner only (0600 from the start, never wider)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _KEY_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_key_pem(key))
        tmp.chmod(_KEY_MODE)  # in case a umask or filesystem widened it
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_pem(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    tmp.write_bytes(data)
    tmp.replace(path)


def _read_local_identity(folder: Path) -> SigningIdentity:
    ca_pem = _read_bytes(folder / CA_CERT_FILE, "local CA certificate")
    leaf = x509.load_pem_x509_certificate(_read_bytes(folder / LEAF_CERT_FILE, "local signer certificate"))
    key = _read_private_key(folder / LEAF_KEY_FILE)
    _check_key_matches(leaf, key, folder / LEAF_CERT_FILE, folder / LEAF_KEY_FILE)
    return SigningIdentity(
        chain_pem=leaf.public_bytes(serialization.Encoding.PEM),
        private_key_pem=_key_pem(key),
        alg="es256",
        source="local",
        trust_anchor_pem=ca_pem,
    )


# --- reading and checking a person's own identity ---------------------------------------------------


def _read_chain(path: Path) -> list[x509.Certificate]:
    data = _read_bytes(path, "certificate")
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise SigningIdentityError(
            f"'{path}' is not a PEM certificate chain ({error}). Give the signing certificate first, "
            "then any intermediates, as '-----BEGIN CERTIFICATE-----' blocks."
        ) from error
    return chain


def _read_private_key(path: Path) -> CertificateIssuerPrivateKeyTypes:
    data = _read_bytes(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise SigningIdentityError(
            f"'{path}' is not an unencrypted PEM private key ({error}). "
            "Export the key without a passphrase (PKCS#8 PEM) and try again."
        ) from error
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise SigningIdentityError(f"'{path}' holds a {type(key).__name__}; use an EC, RSA or Ed25519 key.")
    return key


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise SigningIdentityError(f"{what} file not found: '{path}'. Check the path.") from error
    except OSError as error:
        raise SigningIdentityError(f"cannot read the {what} file '{path}' ({error}).") from error


def _check_key_matches(
    leaf: x509.Certificate, key: CertificateIssuerPrivateKeyTypes, cert_path: Path, key_path: Path
) -> None:
    mine = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if mine != theirs:
        raise SigningIdentityError(
            f"the key '{key_path}' does not belong to the first certificate in '{cert_path}'. "
            "Put the signing certificate first in the chain file and pass its own key."
        )


def _check_leaf(leaf: x509.Certificate, path: Path) -> None:
    if _is_self_signed(leaf):
        raise SigningIdentityError(
            f"the signing certificate in '{path}' is self-signed; C2PA needs one issued by a CA. "
            "Leave out --c2pa-cert to use facecraft's local identity, or get a CA-issued certificate."
        )
    try:
        usages = set(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = set()
    if not SIGNING_USAGES & usages:
        raise SigningIdentityError(
            f"the signing certificate in '{path}' lacks an extended key usage C2PA accepts "
            "(emailProtection, documentSigning or c2pa claimSigning); ask your CA for a "
            "document-signing certificate, or leave out your own to use facecraft's local identity."
        )


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _alg_for(key: CertificateIssuerPrivateKeyTypes, path: Path) -> SigningAlg:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves: dict[str, SigningAlg] = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
    raise SigningIdentityError(f"the key in '{path}' uses an algorithm C2PA cannot sign with.")
