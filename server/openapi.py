"""The OpenAPI 3.1 description of the HTTP API, generated from the wire models and the endpoint table."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

import shared
from shared.protocol import HTTP_ENDPOINTS, HTTP_STATUS, BinaryBody, ErrorAck
from shared.protocol.types import WireModel

REF_TEMPLATE = "#/components/schemas/{model}"


def build_openapi() -> dict[str, Any]:
    """The whole document; every body schema comes from the same pydantic models the server parses."""
    models: set[type[WireModel]] = {ErrorAck}
    for ep in HTTP_ENDPOINTS.values():
        if not isinstance(ep.response, BinaryBody):
            models.add(ep.response)
        if ep.request is not None:
            models.add(ep.request)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, defs = models_json_schema([(m, "serialization") for m in ordered], ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {
        "/healthz": {"get": {"summary": "Liveness and database check.", "responses": _plain(200)}},
        "/metrics": {"get": {"summary": "Prometheus metrics (text).", "responses": _plain(200)}},
    }
    for ep in sorted(HTTP_ENDPOINTS.values(), key=lambda e: e.key):
        op: dict[str, Any] = {
            "summary": ep.doc.split("\n", 1)[0],
            "description": ep.doc,
            "responses": {
                str(ep.status): _binary(ep.response)
                if isinstance(ep.response, BinaryBody)
                else _json(ep.response.__name__, "Success."),
                **{
                    str(HTTP_STATUS[code]): _json("ErrorAck", "An error; see `error.code`.")
                    for code in ep.errors
                },
            },
        }
        if ep.params:
            op["parameters"] = [
                {
                    "name": param.name,
                    "in": "path",
                    "required": True,
                    "description": param.doc,
                    "schema": {"type": "string", "pattern": param.pattern},
                }
                for param in ep.params
            ]
        if ep.request is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(ep.request.__name__)}},
            }
        if ep.auth:
            op["security"] = [{"bearer": []}]
        paths.setdefault(ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Convex room authority",
            "version": shared.__version__,
            "description": "HTTP side of the Convex server; the realtime side is Socket.IO "
            "(see docs/protocol.md).",
        },
        "paths": paths,
        "components": {
            "schemas": _ecma_patterns(defs.get("$defs", {})),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _binary(body: BinaryBody) -> dict[str, Any]:
    return {
        "description": f"Success: {body.layout}, at most {body.max_bytes} bytes.",
        "content": {
            "application/octet-stream": {
                "schema": {"type": "string", "contentMediaType": "application/octet-stream"}
            }
        },
    }


def _plain(status: int) -> dict[str, Any]:
    return {str(status): {"description": "OK"}}


def _ecma_patterns(node: Any) -> Any:
    """Rewrite the Unicode class `\\p{Cc}` (Rust regex, which pydantic uses) as ranges that
    ECMA-262 regexes, the dialect OpenAPI tools expect, understand too."""
    if isinstance(node, dict):
        return {
            k: v.replace("\\p{Cc}", "\\u0000-\\u001f\\u007f-\\u009f")
            if k == "pattern" and isinstance(v, str)
            else _ecma_patterns(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_ecma_patterns(v) for v in node]
    return node
