"""Password hashing (scrypt) and expiring signed login tokens (HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Final

SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SALT_BYTES: Final = 16
TOKEN_VERSION: Final = "v1"


class InvalidToken(Exception):
    """A token that is malformed, forged, or expired."""


def hash_password(password: str) -> str:
    """A self-describing scrypt hash: `scrypt$n$r$p$salt$hash` (base64)."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return "$".join(
        ("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest))
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash from :func:`hash_password` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: who, and until when (Unix seconds)."""

    user_id: int
    username: str
    expires_at: float


class TokenSigner:
    """Issues and checks `v1.<payload>.<signature>` tokens; time is passed in, never read."""

    def __init__(self, key: bytes, ttl_s: float) -> None:
        if len(key) < 16:
            raise ValueError("token signing key must be at least 16 bytes")
        self._key = key
        self.ttl_s = ttl_s

    def issue(self, user_id: int, username: str, now: float) -> str:
        """A token for this user that expires `ttl_s` after `now`."""
        payload = json.dumps(
            {"uid": user_id, "usr": username, "exp": round(now + self.ttl_s, 3)},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        body = f"{TOKEN_VERSION}.{_b64(payload)}"
        return f"{body}.{_b64(self._sign(body))}"

    def verify(self, token: object, now: float) -> TokenClaims:
        """The claims of a genuine, unexpired token; raises InvalidToken otherwise."""
        if not isinstance(token, str) or len(token) > 1024:
            raise InvalidToken("token must be a string")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_VERSION:
            raise InvalidToken("malformed token")
        body = f"{parts[0]}.{parts[1]}"
        try:
            signature = _unb64(parts[2])
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            raise InvalidToken("malformed token") from None
        if not hmac.compare_digest(signature, self._sign(body)):
            raise InvalidToken("token signature does not match")
        try:
            user_id, username, expires_at = claims["uid"], claims["usr"], claims["exp"]
        except (KeyError, TypeError):
            raise InvalidToken("malformed token") from None
        if not isinstance(user_id, int) or not isinstance(username, str):
            raise InvalidToken("malformed token")
        if not isinstance(expires_at, int | float) or now >= expires_at:
            raise InvalidToken("token expired; log in again")
        return TokenClaims(user_id=user_id, username=username, expires_at=float(expires_at))

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("bad base64") from exc
