"""Passwords are stored as salted scrypt hashes; login tokens are signed, expire, and resist forgery."""

from __future__ import annotations

import pytest

from server.auth import InvalidToken, TokenSigner, hash_password, verify_password

KEY = b"k" * 32


def test_password_hash_verifies_only_the_right_password() -> None:
    """The right password verifies, a wrong one does not, and the hash never contains it."""
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)


def test_same_password_hashes_differently_each_time() -> None:
    """Salting: two hashes of one password differ."""
    assert hash_password("hunter22") != hash_password("hunter22")


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$x$8$1$AA$AA", "bcrypt$1$2$3$4$5"])
def test_garbage_hashes_never_verify(stored: str) -> None:
    """A corrupt stored hash verifies nothing and raises nothing."""
    assert not verify_password("anything", stored)


def test_token_round_trip_until_expiry() -> None:
    """A token verifies until its expiry time and not after."""
    signer = TokenSigner(KEY, ttl_s=60)
    token = signer.issue(7, "sam", now=1000.0)
    claims = signer.verify(token, now=1059.9)
    assert (claims.user_id, claims.username, claims.expires_at) == (7, "sam", 1060.0)
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(token, now=1060.0)


def test_tampered_or_foreign_tokens_are_refused() -> None:
    """Changing the payload, or signing with another key, makes a token invalid."""
    signer = TokenSigner(KEY, ttl_s=60)
    token = signer.issue(7, "sam", now=0.0)
    version, payload, signature = token.split(".")
    other = TokenSigner(b"x" * 32, ttl_s=60).issue(8, "eve", now=0.0)
    forged = f"{version}.{other.split('.')[1]}.{signature}"
    for bad in (forged, other, token + "x", "v2." + payload + "." + signature, "", "a.b", None, 42):
        with pytest.raises(InvalidToken):
            signer.verify(bad, now=1.0)
