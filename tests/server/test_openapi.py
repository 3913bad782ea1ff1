"""The served OpenAPI document is valid and describes exactly the routes the server answers."""

from __future__ import annotations

from openapi_spec_validator import validate

from tests.server.conftest import LiveServer


async def test_openapi_is_valid_and_matches_the_router(server: LiveServer) -> None:
    """Every API route has an operation in /api/openapi.json and every operation has a route."""
    async with server.http.get(f"{server.url}/api/openapi.json") as r:
        assert r.status == 200
        doc = await r.json()
    validate(doc)
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routed = {
        (route.method, route.resource.canonical)
        for route in server.app.router.routes()
        if route.resource is not None
        and route.method in {"GET", "POST", "PUT", "DELETE"}
        and (
            route.resource.canonical.startswith("/api/")
            or route.resource.canonical in {"/healthz", "/metrics"}
        )
        and route.resource.canonical != "/api/openapi.json"
    }
    assert documented == routed
