"""Requests the API's schema refuses (a missing field, an unknown action, a number out of
range) answered like every other request that cannot be carried out: 400 with one line
naming the field, `{"error": "action: Input should be ..."}`, never FastAPI's 422 list.

The OpenAPI document says so too: each operation's 422 answer becomes that 400.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI

MAX_LINE = 300  # a refusal is one short line; the schema's messages never need more
SOURCES = frozenset({"body", "query", "path", "header", "cookie"})  # where, not which field
REFUSED = {
    "description": "Refused: the request cannot be carried out as asked (one line why).",
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "string"}}}}},
}
UNUSED = ("HTTPValidationError", "ValidationError")  # the 422 list's schemas


def first_error(errors: Sequence[Any]) -> str:
    """`field.path: message` for the first of FastAPI's validation errors, on one line."""
    if not errors:
        return "the request is not one this API takes"
    error = errors[0]
    where = [str(part) for part in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        field = "body"
    else:
        field = ".".join(where[1:] if where[:1] and where[0] in SOURCES else where)
    message = " ".join(str(error.get("msg", "not valid")).split())
    line = f"{field or 'request'}: {message}"
    return line if len(line) <= MAX_LINE else line[:MAX_LINE - 1] + "…"


def refusals_described(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi` with every 422 answer described as the 400 it is."""
    document_of = app.openapi

    def openapi() -> dict[str, Any]:
        document = document_of()  # built once and kept by FastAPI; this edit is idempotent
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                answers = operation.get("responses", {})
                if answers.pop("422", None) is not None:
                    answers.setdefault("400", REFUSED)
        schemas = document.get("components", {}).get("schemas", {})
        for name in UNUSED:
            schemas.pop(name, None)
        return document

    return openapi
