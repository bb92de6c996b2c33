"""`/api/openapi.json` describes every endpoint of the API and the feeds, and is a valid
OpenAPI document: a route added later without a description fails here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from openapi_spec_validator import validate

from tests.support.web import Served
from watcher.config.settings import Settings
from watcher.web.app import create_app

MACHINE_PREFIXES = ("/api/", "/feeds/")
NOT_OPERATIONS = {"HEAD", "OPTIONS"}  # answered with GET's route; OpenAPI needs no entry


def served_routes(app: FastAPI) -> Iterator[tuple[str, set[str]]]:
    """Every (path, methods) the application answers, in included routers too."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before 0.160 lists included routes in app.routes itself
        routes: Any = app.routes
    else:
        routes = iter_route_contexts(app.routes)
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods:
            yield path, set(methods)


def undescribed(app: FastAPI, document: dict[str, Any]) -> list[str]:
    """`METHOD PATH` of each API or feed route the document leaves out or does not
    describe (no description: the route's docstring)."""
    missing = []
    for path, methods in served_routes(app):
        if not path.startswith(MACHINE_PREFIXES) or path == app.openapi_url:
            continue
        for method in sorted(methods - NOT_OPERATIONS):
            operation = document["paths"].get(path, {}).get(method.lower())
            if not operation or not operation.get("description", "").strip():
                missing.append(f"{method} {path}")
    return missing


def test_the_document_describes_every_api_and_feed_route(served: Served) -> None:
    with served.client(served.token("vic")) as client:
        answer = client.get("/api/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    routes = [path for path, _ in served_routes(served.app) if path.startswith(MACHINE_PREFIXES)]
    assert {"/feeds/alerts.atom", "/api/sources", "/api/channels"} <= set(routes)
    assert undescribed(served.app, document) == []
    validate(document)  # OpenAPI 3.x, by its published schema
    assert document["openapi"].startswith("3.")
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyQuery"] == {**schemes["APIKeyQuery"], "in": "query", "name": "token"}
    # Two models of one name get module-path names (watcher__web__...): a client generated
    # from the document would then change with the code's layout.
    assert [name for name in document["components"]["schemas"] if "__" in name] == []


def test_the_document_answers_a_refused_request_400_with_one_line_never_422(
    served: Served
) -> None:
    """The workspace answers a request its schema refuses 400 `{"error": ...}`, like every
    other refusal (tests/web/test_out_of_range.py); the document must say the same."""
    with served.client(served.token("vic")) as client:
        document = client.get("/api/openapi.json").json()
    answers = {f"{method.upper()} {path}": operation["responses"]
               for path, operations in document["paths"].items()
               for method, operation in operations.items()}
    assert [name for name, responses in answers.items() if "422" in responses] == []
    refused = answers["POST /api/triage"]["400"]["content"]["application/json"]["schema"]
    assert refused == {"$ref": "#/components/schemas/ErrorOut"}  # the module's own model
    limited = answers["GET /api/silences"]["400"]["content"]["application/json"]["schema"]
    assert limited["properties"] == {"error": {"type": "string"}}
    assert limited["required"] == ["error"]
    assert answers["GET /api/channels"].keys() == {"200"}  # nothing in it to refuse
    assert not {"HTTPValidationError", "ValidationError"} & set(document["components"]["schemas"])
    validate(document)


def test_the_document_is_for_the_signed_in_only(served: Served) -> None:
    with served.client() as client:
        assert client.get("/api/openapi.json").status_code == 401


def test_a_route_left_out_of_the_document_or_without_a_description_is_found() -> None:
    app = create_app(None, Settings(), lambda: None)  # type: ignore[arg-type]  # never served

    def hidden() -> dict[str, str]:
        """Hidden from the document."""
        return {}

    def terse() -> dict[str, str]:
        return {}

    app.add_api_route("/api/hidden", hidden, include_in_schema=False)
    app.add_api_route("/feeds/terse.atom", terse, methods=["POST"])
    assert undescribed(app, app.openapi()) == ["GET /api/hidden", "POST /feeds/terse.atom"]
