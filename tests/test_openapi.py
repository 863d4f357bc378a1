"""`GET /api/v1/openapi.json`: an OpenAPI 3.1 document built from the route table, so every route
is in it with its methods, its auth and its errors (contract section 7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from starlette.testclient import TestClient

from server import openapi
from server.app import api_table, create_app
from server.auth.guard import PUBLIC
from server.config import Config
from sync.protocol.model import SyncRequest
from sync.db import Store
from sync.people.users import add_user, create_token

ERRORS = {"400", "401", "403", "404", "413", "429", "503"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Config(data_dir=tmp_path, backup=False, webhook_poll_s=0.05))) as c:  # a quick stop
        yield c


@pytest.fixture
def doc(client: TestClient) -> dict:
    response = client.get("/api/v1/openapi.json")  # no credentials: the document is public
    assert response.status_code == 200, response.text
    return response.json()


def test_every_route_in_the_table_is_in_the_document_with_its_methods(doc: dict) -> None:
    table = api_table()
    assert ("/openapi.json", openapi.serve, ["GET"], PUBLIC) in table
    for path, _handler, methods, need in table:
        assert path in doc["paths"], path
        for method in methods:
            operation = doc["paths"][path][method.lower()]
            assert operation["x-fieldcards-access"] == need
            assert (operation.get("security") == []) == (need == PUBLIC), (method, path)
    described = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert described == {(m, p) for p, _h, methods, _n in table for m in methods}


def test_the_document_is_valid_openapi_3_1(doc: dict) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert {"bearerAuth", "cookieAuth"} <= set(doc["components"]["securitySchemes"])
    schema = schemathesis.openapi.from_dict(doc)
    schema.validate()  # against the OpenAPI 3.1 meta-schema schemathesis bundles
    assert all(result.ok() for result in schema.get_all_operations())


def test_every_operation_describes_its_errors_with_the_one_error_shape(doc: dict) -> None:
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "fields"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            assert ERRORS <= set(operation["responses"]), (method, path)
            for code in ERRORS:
                assert operation["responses"][code] == {"$ref": f"#/components/responses/{code}"}
            assert any(code.startswith("2") for code in operation["responses"]), (method, path)
            for name in (p[1:-1] for p in path.split("/") if p.startswith("{")):
                assert {"name": name, "in": "path"}.items() <= next(
                    p for p in operation["parameters"] if p["name"] == name
                ).items()
    for code in ERRORS:
        content = doc["components"]["responses"][code]["content"]
        assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_sync_body_is_the_pydantic_model_that_validates_it(doc: dict) -> None:
    body = doc["paths"]["/sync"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SyncRequest"}
    described = doc["components"]["schemas"]["SyncRequest"]
    model = SyncRequest.model_json_schema()
    assert described["required"] == model["required"]
    assert described["properties"]["limit"] == model["properties"]["limit"]
    assert set(described["properties"]) == set(model["properties"])


def test_a_route_added_without_a_description_is_refused() -> None:
    async def new_handler(request):  # a route someone adds to the table and forgets to describe
        raise AssertionError

    with pytest.raises(LookupError, match="GET /new"):
        openapi.document([*api_table(), ("/new", new_handler, ["GET"], PUBLIC)])
    with pytest.raises(LookupError, match="/me"):
        openapi.document([row for row in api_table() if row[0] != "/me"])


def test_the_figures_listed_are_those_the_dashboard_answers(client: TestClient, doc: dict, tmp_path: Path) -> None:
    st = Store(tmp_path / "fieldcards.db")
    try:
        add_user(st, "ada", "admin")
        token = create_token(st, "ada")
    finally:
        st.close()
    figures = client.get("/api/v1/dashboard", headers={"authorization": f"Bearer {token}"}).json()
    for path in ("/dashboard.csv", "/dashboard.svg"):
        figure = next(p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == "figure")
        assert set(figure["schema"]["enum"]) == set(figures) - {"cards", "filters", "owner_names"}
