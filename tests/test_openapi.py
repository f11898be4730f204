"""The OpenAPI description is served, well-formed, and names every JSON endpoint of the app."""
import re

import pytest

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)


def test_openapi_is_served_without_login(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["schemas"]["Error"]["required"] == ["error"]


def test_openapi_covers_every_api_route(app, client):
    documented = set(client.get("/api/openapi.json").get_json()["paths"])
    routes = {re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json"}
    assert routes - documented == set()
    assert documented - routes - {"/s/{token}/media", "/s/{token}/download", "/healthz", "/auth/supabase"} == set()


def test_every_reference_resolves(client):
    spec = client.get("/api/openapi.json").get_json()
    refs = set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"', str(spec).replace("'", '"')))
    assert refs and refs <= set(spec["components"]["schemas"])


def test_operation_ids_are_unique_and_every_link_names_one(client):
    spec = client.get("/api/openapi.json").get_json()
    operations = [operation for item in spec["paths"].values() for method, operation in item.items()
                  if method != "parameters"]
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids)) == len(operations)
    links = [link for operation in operations for response in operation["responses"].values()
             for link in response.get("links", {}).values()]
    assert links and {link["operationId"] for link in links} <= set(ids)


def test_every_error_response_has_the_error_shape(client):
    spec = client.get("/api/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                json_schema = response.get("content", {}).get("application/json", {}).get("schema")
                if status.startswith(("4", "5")) and json_schema and path != "/healthz":
                    assert (json_schema == {"$ref": "#/components/schemas/Error"}
                            or "error" in json_schema["properties"]), (method, path, status)
