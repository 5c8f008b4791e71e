"""The local signing identity (CA + leaf) and people's own certificate and key files."""

import datetime as dt
import stat
from pathlib import Path

import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from facecraft.media.image import write_image
from facecraft.provenance.c2pa import read_credentials, sign_credentials
from facecraft.provenance.identity import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    IDENTITY_DIR,
    LEAF_CERT_FILE,
    LEAF_KEY_FILE,
    SigningIdentityError,
    load_identity,
    local_identity,
    local_trust_anchor,
    resolve_config_dir,
)
from facecraft.provenance.record import InputFile, new_record


def test_local_identity_is_a_ca_issued_leaf_with_email_protection(tmp_path: Path) -> None:
    identity = local_identity(tmp_path)
    folder = tmp_path / IDENTITY_DIR
    ca = x509.load_pem_x509_certificate((folder / CA_CERT_FILE).read_bytes())
    chain = x509.load_pem_x509_certificates(identity.chain_pem)

    assert len(chain) == 1  # the root is left out of the chain given to the signer
    leaf = chain[0]
    leaf.verify_directly_issued_by(ca)
    assert leaf.issuer == ca.subject and leaf.subject != ca.subject
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in usages
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert identity.alg == "es256" and identity.source == "local"
    assert identity.trust_anchor_pem == (folder / CA_CERT_FILE).read_bytes()


def test_private_keys_are_owner_only(tmp_path: Path) -> None:
    local_identity(tmp_path)
    for name in (CA_KEY_FILE, LEAF_KEY_FILE):
        mode = stat.S_IMODE((tmp_path / IDENTITY_DIR / name).stat().st_mode)
        assert mode == 0o600, f"{name} has mode {mode:o}"


def test_identity_is_made_once_and_reused(tmp_path: Path) -> None:
    first = local_identity(tmp_path)
    second = local_identity(tmp_path)
    assert first == second
    assert local_trust_anchor(tmp_path) == first.trust_anchor_pem


def test_trust_anchor_is_none_without_identity_and_nothing_is_created(tmp_path: Path) -> None:
    assert local_trust_anchor(tmp_path) is None
    assert not (tmp_path / IDENTITY_DIR).exists()


def test_leaf_is_renewed_near_expiry_from_the_same_ca(tmp_path: Path) -> None:
    first = local_identity(tmp_path)
    later = first.leaf.not_valid_after_utc - dt.timedelta(days=5)
    renewed = local_identity(tmp_path, now=later)
    assert renewed.leaf.serial_number != first.leaf.serial_number
    assert renewed.trust_anchor_pem == first.trust_anchor_pem
    assert renewed.leaf.not_valid_after_utc > first.leaf.not_valid_after_utc


def test_config_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACECRAFT_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert resolve_config_dir() == tmp_path / "xdg" / "facecraft"
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "explicit"))
    assert resolve_config_dir() == tmp_path / "explicit"
    assert resolve_config_dir(tmp_path / "given") == tmp_path / "given"


def _write_own_identity(folder: Path) -> tuple[Path, Path]:
    """A person's own certificate chain (leaf + root, the root included on purpose) and key."""
    local_identity(folder)
    ident = folder / IDENTITY_DIR
    chain = folder / "chain.pem"
    chain.write_bytes((ident / LEAF_CERT_FILE).read_bytes() + (ident / CA_CERT_FILE).read_bytes())
    return chain, ident / LEAF_KEY_FILE


def test_own_certificate_and_key_are_accepted_and_sign(tmp_path: Path) -> None:
    cert_path, key_path = _write_own_identity(tmp_path / "mine")
    identity = load_identity(cert_path, key_path)
    assert identity.source == "user" and identity.alg == "es256"
    assert len(x509.load_pem_x509_certificates(identity.chain_pem)) == 1  # self-signed root dropped
    assert identity.trust_anchor_pem is not None

    image = write_image(tmp_path / "out.jpg", np.full((32, 48, 3), 90, np.uint8))
    record = new_record([InputFile("source", "me.jpg", "c" * 64)], ["mesh"], store_dir=tmp_path / "rec")
    sign_credentials(image, identity, record)
    reading = read_credentials(image, trust_anchor_pem=identity.trust_anchor_pem)
    assert reading.state == "valid" and reading.claims is not None and reading.claims.trusted


def test_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    cert_path, _ = _write_own_identity(tmp_path / "a")
    _, other_key = _write_own_identity(tmp_path / "b")
    with pytest.raises(SigningIdentityError, match="does not belong"):
        load_identity(cert_path, other_key)


def test_self_signed_certificate_is_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "me")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "me.pem", tmp_path / "me.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(SigningIdentityError, match="self-signed"):
        load_identity(cert_path, key_path)


def test_missing_or_garbage_files_are_refused(tmp_path: Path) -> None:
    cert_path, key_path = _write_own_identity(tmp_path / "mine")
    with pytest.raises(SigningIdentityError, match="not found"):
        load_identity(tmp_path / "nope.pem", key_path)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    with pytest.raises(SigningIdentityError, match="PEM"):
        load_identity(garbage, key_path)
    with pytest.raises(SigningIdentityError, match="PEM private key"):
        load_identity(cert_path, garbage)
