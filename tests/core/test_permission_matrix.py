"""Every owned entity's endpoints, run as every role against a record a manager owns.

admin and the manager's head may do everything short of (for the head) purging; the owner may read and
edit but never delete; anyone else gets 404 everywhere, so existence never leaks; only admins purge.
"""

import pytest

from tests import factories

ENTITIES = list(factories.OWNED)
# who -> expected status for: read, update, delete, history
EXPECTED = {
    "admin": (200, 200, 204, 200),
    "head": (200, 200, 204, 200),
    "manager": (200, 200, 403, 200),
    "colleague": (404, 404, 404, 404),
    "outsider": (404, 404, 404, 404),
    "other_head": (404, 404, 404, 404),
}
PATCH = {"companies": {"city": "Омск"}, "contacts": {"city": "Омск"}, "leads": {"city": "Омск"},
         "deals": {"title": "Новая"}, "tasks": {"title": "Новая"}, "calls": {"summary": "Новая"},
         "meetings": {"location": "Омск"}, "notes": {"text": "Новая"}}


@pytest.fixture
def owned(org):
    return {entity: make(org.manager) for entity, make in factories.OWNED.items()}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("entity", ENTITIES)
def test_endpoint_answers_by_role_and_ownership(api_as, owned, entity, who):
    api = api_as(who)
    record = owned[entity]
    read, update, delete, history = EXPECTED[who]
    listed = [row["id"] for row in api.get(f"/{entity}", limit=200).body["items"]]
    assert (record.pk in listed) == (read == 200)
    assert api.get(f"/{entity}/{record.pk}").status_code == read
    assert api.get(f"/{entity}/{record.pk}/history").status_code == history
    assert api.patch(f"/{entity}/{record.pk}", PATCH[entity]).status_code == update
    assert api.delete(f"/{entity}/{record.pk}").status_code == delete


@pytest.mark.parametrize("who,status", [("admin", 200), ("head", 200), ("manager", 200), ("colleague", 404),
                                        ("outsider", 404)])
@pytest.mark.parametrize("entity", ["contacts", "companies"])
def test_timeline_follows_the_same_rules(api_as, owned, entity, who, status):
    assert api_as(who).get(f"/{entity}/{owned[entity].pk}/timeline").status_code == status


@pytest.mark.parametrize("entity", ENTITIES)
def test_recycle_bin_restore_by_head_and_purge_only_by_admin(api_as, owned, entity):
    pk = owned[entity].pk
    head, admin, manager = api_as("head"), api_as("admin"), api_as("manager")
    assert head.delete(f"/{entity}/{pk}").status_code == 204
    assert manager.get(f"/{entity}/{pk}").status_code == 404
    assert pk in [i["id"] for i in head.get("/recycle-bin", entity=entity).body["items"]]
    # the owner knows his record exists, so he is told he may not restore it rather than "not found"
    assert manager.post(f"/recycle-bin/{entity}/{pk}/restore").status_code == 403
    assert api_as("outsider").post(f"/recycle-bin/{entity}/{pk}/restore").status_code == 404
    assert head.post(f"/recycle-bin/{entity}/{pk}/restore").status_code == 204
    assert manager.get(f"/{entity}/{pk}").status_code == 200
    actions = [e["action"] for e in manager.get(f"/{entity}/{pk}/history").body["items"]]
    assert actions[:2] == ["restore", "delete"]
    head.delete(f"/{entity}/{pk}")
    assert head.delete(f"/recycle-bin/{entity}/{pk}").status_code == 403
    purged = admin.delete(f"/recycle-bin/{entity}/{pk}")
    assert purged.status_code in (204, 422), purged.body  # 422 only when other records still point at it
    if purged.status_code == 204:
        assert admin.get(f"/{entity}/{pk}").status_code == 404


def test_a_record_shared_with_a_colleague_becomes_visible_and_editable_to_him(api_as, owned, org):
    pk = owned["contacts"].pk
    colleague = api_as("colleague")
    assert colleague.get(f"/contacts/{pk}").status_code == 404
    assert api_as("manager").post(f"/contacts/{pk}/shares", {"user_id": org.colleague.pk}).status_code == 204
    assert colleague.get(f"/contacts/{pk}").status_code == 200
    assert colleague.patch(f"/contacts/{pk}", {"city": "Тверь"}).status_code == 200
    assert colleague.delete(f"/contacts/{pk}").status_code == 403


def test_manager_cannot_give_a_record_to_a_colleague_but_his_head_can(api_as, owned, org):
    pk = owned["contacts"].pk
    r = api_as("manager").patch(f"/contacts/{pk}", {"owner_id": org.colleague.pk})
    assert r.status_code == 422 and r.body["errors"][0]["field"] == "owner_id"
    assert api_as("head").patch(f"/contacts/{pk}", {"owner_id": org.colleague.pk}).status_code == 200
    r = api_as("head").patch(f"/contacts/{pk}", {"owner_id": org.outsider.pk})
    assert r.status_code == 422
    assert api_as("colleague").get(f"/contacts/{pk}").status_code == 200


def test_anonymous_and_bad_tokens_get_401(client, owned):
    assert client.get("/api/v1/contacts").status_code == 401
    assert client.get("/api/v1/contacts", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_unowned_pool_records_are_seen_by_all_but_changed_only_by_heads(api_as, org):
    lead = factories.lead(org.head, owner_id=None)
    assert api_as("outsider").get(f"/leads/{lead.pk}").status_code == 200
    assert api_as("outsider").patch(f"/leads/{lead.pk}", {"city": "Омск"}).status_code == 403
    assert api_as("head").patch(f"/leads/{lead.pk}", {"city": "Омск"}).status_code == 200
