"""The API contract is a file: docs/openapi.json must match what the code serves.

After an intended API change, regenerate it with `tools/openapi`.
"""

import json
from pathlib import Path

from krug.api import api

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_schema_matches_the_code():
    current = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1"), sort_keys=True, default=str))
    committed = json.loads(SCHEMA_FILE.read_text())
    assert current == committed, "API changed: run tools/openapi and commit docs/openapi.json"


def test_openapi_and_docs_are_served(client, db):
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "Krug CRM API"
    assert client.get("/api/v1/docs").status_code == 200
