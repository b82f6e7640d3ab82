"""Keyset cursors: whatever a client sends as a cursor either reads a page or is refused as malformed, and a
cursor's value is read as its field reads it."""

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krug.clients.models import Contact
from krug.core.errors import ValidationFailed
from krug.core.pagination import decode_cursor_as, encode_cursor, page
from tests import factories

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=3), max_leaves=5)


@pytest.mark.parametrize("order", ["-updated_at", "surname", "-id"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON, last_id=JSON, raw=st.text(max_size=40))
def test_any_cursor_reads_a_page_or_is_malformed(org, order, value, last_id, raw):
    for cursor in (encode_cursor([value, last_id]), raw):
        try:
            rows, _ = page(Contact.objects.all(), order=order, cursor=cursor, limit=5)
        except ValidationFailed as exc:
            assert exc.errors == {"cursor": [exc.errors["cursor"][0]]}
        else:
            assert isinstance(rows, list)


def test_a_date_cursor_is_read_as_the_field_reads_it_and_its_id_must_be_a_number(db):
    field = Contact._meta.get_field("updated_at")
    when = timezone.now().replace(microsecond=0)
    assert decode_cursor_as(encode_cursor([when.isoformat(), 7]), field) == (when, 7)
    for bad in ([when.isoformat(), "7"], [when.isoformat(), True], ["2026-02-30T10:00:00+03:00", 7], [None, 7],
                ["вчера", 7], [5, 7]):
        with pytest.raises(ValidationFailed):
            decode_cursor_as(encode_cursor(bad), field)


def test_pages_by_a_date_cover_every_row_once(org):
    base = timezone.now() - dt.timedelta(days=1)
    made = [factories.contact(org.manager, surname=f"К{i}") for i in range(7)]
    for i, contact in enumerate(made):  # two share a time: the id breaks the tie
        Contact.objects.filter(pk=contact.pk).update(updated_at=base + dt.timedelta(minutes=i // 2))
    seen, cursor = [], None
    while True:
        rows, cursor = page(Contact.objects.filter(pk__in=[c.pk for c in made]), order="-updated_at",
                            cursor=cursor, limit=3)
        seen += [c.pk for c in rows]
        if cursor is None:
            break
    assert sorted(seen) == sorted(c.pk for c in made) and len(seen) == 7
    times = list(Contact.objects.filter(pk__in=seen).order_by("-updated_at", "-id").values_list("pk", flat=True))
    assert seen == times
