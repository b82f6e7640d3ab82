"""Loading a generated base straight into the database for benchmarks (COPY on PostgreSQL, executemany on
SQLite): the values are the ones the services would store (E.164 phones, casefolded keys, search and match
keys), written without the per-row cost of the services, which the import benchmark measures separately."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import connection, models, transaction
from django.utils import timezone

from bench.people import Person
from krug.core import bulk


def copy_rows(model, rows: Iterable[dict]) -> int:
    """Write rows (dicts by attname, with explicit ids) into the model's table."""
    return bulk.insert(model, rows, with_ids=True)


def reset_sequences(*models_) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"COALESCE((SELECT MAX(id) FROM {table}), 1))")


def _next_id(model) -> int:
    return (model.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1


@transaction.atomic
def load_people(people: list[Person], owner_ids: list[int]) -> dict[int, int]:
    """Companies, contacts, phones, e-mails and match keys for `people`; returns {person id: contact id}."""
    from krug.clients.models import Company, Contact, ContactEmail, ContactPhone
    from krug.clients.services import contact_search_key
    from krug.quality import normalize
    from krug.quality.duplicates import company_keys, contact_keys, key_hash
    from krug.quality.models import CompanyKey, ContactKey

    now = timezone.now()
    companies: dict[str, int] = {}
    first_company = _next_id(Company)
    company_rows = []
    for p in people:
        if p.company and p.company not in companies:
            companies[p.company] = first_company + len(companies)
            company_rows.append({"id": companies[p.company], "name": p.company, "city": p.city,
                                 "owner_id": owner_ids[len(companies) % len(owner_ids)], "created_at": now,
                                 "updated_at": now, "search_key": normalize.search_key(p.company, p.city)})
    copy_rows(Company, company_rows)
    first = _next_id(Contact)
    ids = {p.id: first + n for n, p in enumerate(people)}

    def contacts() -> Iterator[dict]:
        for n, p in enumerate(people):
            yield {"id": ids[p.id], "surname": p.surname, "first_name": p.first_name, "patronymic": p.patronymic,
                   "position": "", "job_title": "", "company_id": companies.get(p.company), "city": p.city,
                   "source": "", "owner_id": owner_ids[n % len(owner_ids)], "created_at": now, "updated_at": now,
                   "search_key": contact_search_key(p.surname, p.first_name, p.patronymic, p.company)}

    copy_rows(Contact, contacts())
    phone_id, email_id = _next_id(ContactPhone), _next_id(ContactEmail)
    phones, emails = [], []
    key_hashes: list[int] = []
    key_records: list[int] = []
    company_key_hashes: list[int] = []
    company_key_records: list[int] = []
    for p in people:
        for position, raw in enumerate(p.phones):
            try:
                number, extension = normalize.phone(raw)
            except ValueError:
                continue
            phones.append({"id": phone_id + len(phones), "contact_id": ids[p.id], "number": number,
                           "extension": extension, "raw": raw, "position": position})
        for position, address in enumerate(p.emails):
            emails.append({"id": email_id + len(emails), "contact_id": ids[p.id], "email": address,
                           "email_key": address.casefold(), "position": position})
        for key in contact_keys(p.surname, p.first_name, p.company, p.city):
            key_hashes.append(key_hash(key))
            key_records.append(ids[p.id])
    for name, company_id in companies.items():
        for key in company_keys(name, ""):
            company_key_hashes.append(key_hash(key))
            company_key_records.append(company_id)
    copy_rows(ContactPhone, phones)
    copy_rows(ContactEmail, emails)
    bulk.insert_bigints(ContactKey, ("hash", "record_id"), key_hashes, key_records)
    bulk.insert_bigints(CompanyKey, ("hash", "record_id"), company_key_hashes, company_key_records)
    reset_sequences(Company, Contact, ContactPhone, ContactEmail)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return ids
