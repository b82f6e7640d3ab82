"""List endpoints cost the same number of queries for 3 rows as for 15: no N+1 anywhere."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories


def queries_for(api, path, limit):
    api.get(path, limit=1)  # warm the per-process caches (content types) so only the request itself counts
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path, limit=limit)
    assert response.status_code == 200, response.body
    assert len(response.body["items"]) == limit
    return len(ctx)


@pytest.mark.parametrize("entity", list(factories.OWNED))
@pytest.mark.parametrize("who", ["admin", "manager"])
def test_list_endpoint_has_no_n_plus_one(api_as, org, entity, who):
    contact = factories.contact(org.manager, phones=["+79120000001"], tags=["опт"])
    for _ in range(15):
        factories.OWNED[entity](org.manager, **({"contact_id": contact.pk} if entity not in (
            "companies", "contacts", "leads") else {}))
    api = api_as(who)
    path = f"/{entity}"
    assert queries_for(api, path, 3) == queries_for(api, path, 15)


def test_timeline_and_search_have_no_n_plus_one(api_as, org):
    contact = factories.contact(org.manager, phones=["+79120000001"])
    for i in range(15):
        factories.note(org.manager, contact_id=contact.pk, text=f"n{i}")
    api = api_as("manager")
    assert queries_for(api, f"/contacts/{contact.pk}/timeline", 3) == \
        queries_for(api, f"/contacts/{contact.pk}/timeline", 15)
