"""Name matching across scripts, transliteration systems, typos and swapped order."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krug.quality.matching import name_similarity, person_keys, skeleton


@pytest.mark.parametrize("variants", [
    ("Юлия", "Yulia", "Iulia", "Yuliya"),
    ("Наталья", "Natalia", "Natalya", "Natal'ya"),
    ("Щербаков", "Shcherbakov", "Sherbakov", "Щербакoв"),
    ("Хрущёв", "Khrushchev", "Hrushchev"),
    ("Алексей", "Aleksey", "Alexei", "Aleksei"),
])
def test_one_name_written_in_different_scripts_has_one_skeleton(variants):
    assert len({skeleton(v) for v in variants}) == 1, [skeleton(v) for v in variants]


def test_swapped_order_and_other_script_share_blocking_keys():
    keys = person_keys("Иванова", "Мария")
    assert keys == person_keys("Мария", "Иванова")
    assert keys & person_keys("Ivanova", "Maria")


@pytest.mark.parametrize("typo", [("Иваова", "Мария"), ("Ивонова", "Мария"), ("Иванова", "Марая"),
                                  ("Ыванова", "Мария")])
def test_one_typo_anywhere_still_shares_a_blocking_key(typo):
    assert person_keys("Иванова", "Мария") & person_keys(*typo)


def test_similarity_is_high_for_the_same_person_and_low_for_another():
    same = name_similarity(("Смирнов", "Алексей", ""), ("Smirnov", "Aleksei", ""))
    swapped = name_similarity(("Смирнов", "Алексей", ""), ("Алексей", "Смирнов", ""))
    typo = name_similarity(("Смирнов", "Алексей", ""), ("Смирнов", "Алесей", ""))
    other = name_similarity(("Смирнов", "Алексей", ""), ("Соколов", "Андрей", ""))
    assert same == swapped == 100 and typo >= 90 and other < 70
    assert name_similarity(("Смирнов", "Алексей", "Петрович"), ("Смирнов", "Алексей", "Иванович")) < 75


@settings(deadline=None)  # anyascii loads a script's table on first sight of it
@given(st.text(max_size=30), st.text(max_size=30))
def test_keys_and_similarity_never_fail_on_any_text(surname, first):
    person_keys(surname, first)
    assert 0 <= name_similarity((surname, first, ""), (first, surname, "")) <= 100
