"""`filters.key_starts` finds the records whose search key begins with a text, on both databases alike (a range
of keys on SQLite's b-tree, LIKE on PostgreSQL's trigram index), and only those."""

from krug.clients.filters import key_starts
from krug.clients.models import Contact
from tests import factories


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
