"""The OpenAPI schema with every error response declared as problem+json."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from backend.api.errors import PROBLEM_JSON, Problem

_DESCRIPTIONS = {
    400: "Malformed request (not JSON, bad header).",
    401: "No API key, or an unknown or revoked one.",
    403: "The key's role does not allow this (or it is not your journey).",
    404: "No such portfolio, entity or run.",
    409: "Conflicts with what exists (id taken, approved plan, concurrent create).",
    412: "If-Match names another version than the current one: GET it again.",
    413: "The request body is too large.",
    415: "The body is of a media type this operation does not read.",
    422: "Invalid input, or a change that breaks a rule of the portfolio (each problem with "
    "its path).",
    428: "If-Match is required to change or delete this.",
    503: "The database is busy or does not answer: retry later.",
}


def _codes(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    if path.endswith("/health"):
        return []
    if path.endswith("/ready"):
        return [503]
    codes = [401, 404, 422, 503]
    has_body = "requestBody" in operation
    if has_body:
        codes += [400, 413]
        if "application/zip" in operation["requestBody"].get("content", {}):
            codes.append(415)  # spreadsheet uploads (tables.py)
    if method != "get":
        codes += [403, 409]
    parameters = operation.get("parameters", [])
    if_match = any(p.get("in") == "header" and p.get("name") == "If-Match" for p in parameters)
    if method in ("patch", "delete") or if_match:
        codes += [412, 428]
    if not any(p.get("in") == "path" for p in parameters):
        # Nothing named in the path (GET and POST /portfolios): nothing to miss.
        codes.remove(404)
    return sorted(codes)


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        reference = {"$ref": "#/components/schemas/Problem"}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                content = operation.get("requestBody", {}).get("content", {})
                for kind, media in content.items():
                    if kind != "application/json" and not media and "application/json" in content:
                        media.update(content["application/json"])  # YAML: the same document
                responses = operation.setdefault("responses", {})
                for code in _codes(path, method, operation):
                    responses[str(code)] = {
                        "description": _DESCRIPTIONS[code],
                        "content": {PROBLEM_JSON: {"schema": reference}},
                    }
        app.openapi_schema = schema
        return schema

    # FastAPI's documented way to extend the schema is to replace this method
    app.openapi = openapi  # type: ignore[method-assign]
