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
