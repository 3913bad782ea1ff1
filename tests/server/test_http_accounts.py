"""Accounts over real HTTP: register, log in, and every bad request answered with a stable error code."""

from __future__ import annotations

import pytest

from tests.server.conftest import LiveServer


async def test_register_then_login_returns_tokens(server: LiveServer) -> None:
    """A new account gets a token at once, and logging in later gets another for the same user."""
    async with server.http.post(
        f"{server.url}/api/register", json={"username": "sam", "password": "correct horse"}
    ) as r:
        assert r.status == 201
        registered = await r.json()
    assert registered["username"] == "sam" and len(registered["token"]) > 16
    assert registered["expires_at"] > server.clock.now * 1000

    async with server.http.post(
        f"{server.url}/api/login", json={"username": "sam", "password": "correct horse"}
    ) as r:
        assert r.status == 200
        logged_in = await r.json()
    assert logged_in["user_id"] == registered["user_id"]


async def test_duplicate_username_is_a_conflict(server: LiveServer) -> None:
    """Registering a taken name (in any letter case) answers 409 conflict."""
    await server.register("ada")
    async with server.http.post(
        f"{server.url}/api/register", json={"username": "ADA", "password": "password123"}
    ) as r:
        assert r.status == 409
        assert (await r.json())["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "bad_request"),
        (b"[]", 400, "bad_request"),
        (b'{"username": "x", "password": "password123"}', 400, "bad_request"),
        (b'{"username": "okname", "password": "short"}', 400, "bad_request"),
        (b'{"username": "okname", "password": "password123", "admin": true}', 400, "bad_request"),
        (
            b'{"username": "okname", "password": "' + b"p" * 200_000 + b'"}',
            413,
            "payload_too_large",
        ),
    ],
)
async def test_malformed_registrations_get_clear_errors(
    server: LiveServer, body: bytes, status: int, code: str
) -> None:
    """Bad JSON, wrong shapes, unknown fields and huge bodies are refused with the documented code."""
    async with server.http.post(
        f"{server.url}/api/register", data=body, headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == status
        assert (await r.json())["error"]["code"] == code


async def test_wrong_password_and_unknown_user_look_the_same(server: LiveServer) -> None:
    """Login failures say the same thing either way, so usernames cannot be probed."""
    await server.register("leo")
    answers = []
    for username, password in (("leo", "wrong-password"), ("nobody", "password123")):
        async with server.http.post(
            f"{server.url}/api/login", json={"username": username, "password": password}
        ) as r:
            assert r.status == 401
            answers.append(await r.json())
    assert answers[0] == answers[1]


async def test_health_and_metrics_answer(server: LiveServer) -> None:
    """/healthz says ok and /metrics exposes Prometheus text with our counters."""
    async with server.http.get(f"{server.url}/healthz") as r:
        assert r.status == 200 and (await r.json())["status"] == "ok"
    await server.register("mika")
    async with server.http.get(f"{server.url}/metrics") as r:
        text = await r.text()
    assert r.status == 200
    assert "convex_rooms" in text
    assert 'convex_http_requests_total{route="/api/register",status="201"} 1.0' in text
