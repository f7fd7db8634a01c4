"""The OpenAPI document describes every response body, status code and request body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest

from api.app import create_app
from dispatch.plan import EventType

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'rd.sqlite3'}"
    return create_app(url, preload_workspace=False).openapi()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_every_response_has_a_described_body(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    assert len(ops) == 27
    for method, path, op in ops:
        for code, response in op["responses"].items():
            assert response.get("description"), (method, path, code)
            content = response.get("content")
            assert content, f"{method} {path} {code}: no body described"
            for media, body in content.items():
                assert body.get("schema"), (method, path, code, media)


def test_every_error_code_is_documented_with_the_error_schema(doc: dict[str, Any]) -> None:
    error_props = set(resolve(doc, {"$ref": "#/components/schemas/ErrorBody"})["properties"])
    assert error_props == {"detail", "errors", "error_count", "error_id"}
    for method, path, op in operations(doc):
        codes = set(op["responses"])
        assert {"401", "403", "429", "500", "503"} <= codes, (method, path)
        has_input = op.get("parameters") or op.get("requestBody")
        if has_input:
            assert "422" in codes, (method, path)
        if op.get("requestBody"):
            assert {"400", "413"} <= codes, (method, path)
        for code in codes - {"200", "201", "202"}:
            schema = resolve(doc, op["responses"][code]["content"]["application/json"]["schema"])
            assert {"detail", "errors", "error_id"} <= set(schema["properties"]), (path, code)
        for code in ("429", "503"):
            assert "Retry-After" in op["responses"][code]["headers"], (method, path)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_resource_specific_codes(doc: dict[str, Any]) -> None:
    codes = {(m, p): set(op["responses"]) for m, p, op in operations(doc)}
    assert {"404", "409"} <= codes[("DELETE", "/v1/plans/{plan_id}")]
    assert {"404", "409"} <= codes[("POST", "/v1/plans/{plan_id}/replan")]
    assert "404" in codes[("GET", "/v1/plans/{plan_id}")]
    sheet = "/v1/plans/{plan_id}/routes/{route_id}/sheet.{kind}"
    assert {"200", "404", "409"} <= codes[("GET", sheet)]
    assert {"200", "201"} <= codes[("POST", "/v1/manifests")]
    assert "202" in codes[("POST", "/v1/plans")]


def test_request_bodies_for_csv_toml_and_multipart(doc: dict[str, Any]) -> None:
    upload = doc["paths"]["/v1/manifests"]["post"]["requestBody"]["content"]
    assert {"text/csv", "application/json", "multipart/form-data"} <= set(upload)
    assert upload["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    fleet = doc["paths"]["/v1/fleet"]["put"]["requestBody"]["content"]
    assert fleet["application/toml"]["schema"]["type"] == "string"
    sheet = doc["paths"]["/v1/plans/{plan_id}/routes/{route_id}/sheet.{kind}"]["get"]
    assert {"text/csv", "application/pdf", "application/gpx+xml", "application/geo+json"} <= set(
        sheet["responses"]["200"]["content"]
    )


def test_replan_events_are_a_discriminated_union(doc: dict[str, Any]) -> None:
    request = resolve(doc, {"$ref": "#/components/schemas/ReplanRequest"})
    items = request["properties"]["events"]["items"]
    assert items["discriminator"]["propertyName"] == "type"
    assert set(items["discriminator"]["mapping"]) == set(get_args(EventType))
    assert "road_closed" in get_args(EventType)
    assert request["properties"]["events"]["maxItems"] == 100


def test_plan_is_described_in_one_place(doc: dict[str, Any]) -> None:
    """The done job's plan is the typed model: the same parts as docs/plan.schema.json."""
    job = resolve(doc, {"$ref": "#/components/schemas/PlanJob"})
    plan = resolve(doc, job["properties"]["plan"]["anyOf"][0])
    committed = json.loads((ROOT / "docs" / "plan.schema.json").read_text(encoding="utf-8"))
    assert plan["title"] == "Plan" and plan["type"] == "object"
    assert plan["required"] == committed["required"]
    assert set(plan["properties"]) == set(committed["properties"])
    route = resolve(doc, plan["properties"]["routes"]["items"])
    assert route["properties"].keys() == committed["$defs"]["Route"]["properties"].keys()
    assert route["additionalProperties"] is False


def test_links_chain_uploads_plans_and_sheets(doc: dict[str, Any]) -> None:
    accepted = doc["paths"]["/v1/plans"]["post"]["responses"]["202"]
    assert accepted["links"]["GetPlan"]["operationId"] == "get_plan"
    polled = doc["paths"]["/v1/plans/{plan_id}"]["get"]["responses"]["200"]["links"]
    assert {"Replan", "RouteSheet"} <= set(polled)
    operation_ids = {op.get("operationId") for _, _, op in operations(doc)}
    for link in [*accepted["links"].values(), *polled.values()]:
        assert link["operationId"] in operation_ids
