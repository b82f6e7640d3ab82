"""`filters.key_starts` finds the records whose search key begins with a text, on both databases alike (a range
of keys on SQLite's b-tree, LIKE on PostgreSQL's trigram index), and only those."""

from django.db import connection

from krug.clients.filters import email_holders, key_starts
from krug.clients.models import Company, Contact
from tests import factories
from tests.plans import sqlite_plan


def test_the_keys_that_begin_with_the_text_and_no_other(org):
    wanted = [factories.contact(org.admin, surname="Иванов", first_name="Иван", patronymic="Петрович"),
              factories.contact(org.admin, surname="Иванов", first_name="Иванна"),
              factories.contact(org.admin, surname="Иванов", first_name="Иван", company="Вектор")]
    for surname, first_name in (("Иванова", "Иван"), ("Петров", "Иван"), ("Ivanov", "Ivan"), ("Иванов", "Ива")):
        factories.contact(org.admin, surname=surname, first_name=first_name)
    found = Contact.objects.filter(key_starts("search_key", "иванов иван")).order_by("pk")
    assert list(found) == wanted


def test_pattern_signs_in_the_text_are_letters(org):
    factories.contact(org.admin, surname="Ax_b")
    factories.contact(org.admin, surname="Axxb")
    factories.contact(org.admin, surname="A%b")
    assert [c.surname for c in Contact.objects.filter(key_starts("search_key", "ax_"))] == ["Ax_b"]
    assert [c.surname for c in Contact.objects.filter(key_starts("search_key", "a%"))] == ["A%b"]
    assert not Contact.objects.filter(key_starts("search_key", "b")).exists()


def test_email_search_reads_the_beginning_of_the_keys(org):
    ivanov = factories.contact(org.admin, surname="Иванов", emails=["S.Ivanov@Sever.ru"])
    factories.contact(org.admin, surname="Петров", emails=["petrov@s.ivanov.ru", "ivanov@sever.ru"])
    assert list(Contact.objects.filter(pk__in=email_holders("s.ivanov@sev"))) == [ivanov]
    assert list(Contact.objects.filter(pk__in=email_holders("S.IVANOV"))) == [ivanov]
    assert not Contact.objects.filter(pk__in=email_holders("s.ivanov@sever.ru.")).exists()
    if connection.vendor == "sqlite":  # a range of the b-tree, not LIKE's walk through every e-mail
        plan = sqlite_plan(email_holders("s.ivanov"))
        assert "contactemail_key_idx" in plan and "SCAN" not in plan, plan


def test_company_suggest_reads_the_beginning_of_the_names(org, client):
    factories.company(org.admin, name="ООО «Вектор»")
    factories.company(org.admin, name="Векторные системы")
    factories.company(org.admin, name="Новый вектор")
    client.force_login(org.admin)
    page = client.get("/clients/companies/suggest/", {"company_name": "ООО Вект"}).content.decode()
    assert "Вектор" in page and "Векторные системы" in page and "Новый вектор" not in page
    if connection.vendor == "sqlite":
        plan = sqlite_plan(Company.objects.filter(key_starts("search_key", "вект")))
        assert "SEARCH" in plan and "search_key" in plan, plan
