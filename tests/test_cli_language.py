"""The `krug` command speaks the terminal's language, chosen as gettext chooses it: a trial's Russian operator ran
`krug import` and read «3 created, 1 merged as duplicates» and `'Фамилия'→surname`."""

import pytest
from django.utils import translation

from krug import cli
from krug.clients.models import Contact

LOCALE = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
CONTACTS = "Фамилия;Имя;Телефон;E-mail\nСмирнов;Андрей;+7 912 000-11-01;\nПетрова;Анна;+7 916 555-12-34;\n" \
           "Плохой;Телефон;12;bad@\n"


@pytest.fixture
def terminal(monkeypatch):
    """Set the terminal's locale variables (the others unset)."""

    def speak(**variables):
        for name in LOCALE:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return speak


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("variables", "expected"), [
    ({}, "en"),
    ({"LANG": "ru_RU.UTF-8"}, "ru"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8"}, "ru"),
    ({"LC_ALL": "en_GB.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8", "LANGUAGE": "uk:ru:en"}, "ru"),
    ({"LANG": "C", "LANGUAGE": "ru"}, "en"),  # gettext ignores LANGUAGE under the C locale
    ({"LANG": "ru_RU.KOI8-R@euro"}, "ru"),
])
def test_the_language_is_the_one_gettext_would_pick(variables, expected):
    assert cli.language(variables) == expected


def test_krug_import_reports_in_russian_to_a_russian_terminal(org, tmp_path, capsys, terminal):
    terminal(LANG="ru_RU.UTF-8")
    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS, encoding="utf-8")
    code, out, err = _run(capsys, "import", str(path), "--entity", "contacts")
    assert code == 0, err
    assert "Импорт" in out and "— контакты; столбцы: «Фамилия» → Фамилия, «Имя» → Имя" in out, out
    assert "Готово за" in out and "создано 2" in out and "с ошибками 1" in out, out
    assert "Строки с ошибками и причины:" in out
    assert "surname" not in out and "created" not in out
    assert Contact.objects.count() == 2
    assert translation.get_language() == "en", "the command leaves the caller's language as it was"


def test_krug_import_names_the_option_and_the_problem_in_russian(org, tmp_path, capsys, terminal):
    terminal(LANG="ru_RU.UTF-8")
    code, _out, err = _run(capsys, "import", str(tmp_path / "nope.csv"))
    assert code == 2 and err.startswith("krug: ошибка: ") and "нет такого файла" in err
    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS, encoding="utf-8")
    code, _out, err = _run(capsys, "import", str(path), "--value", "owner:Мария Петрова=nobody")
    assert code == 2 and err.startswith("--value owner: ни один столбец файла не сопоставлен"), err
    assert not Contact.objects.exists()


def test_krug_import_reports_in_english_by_default(org, tmp_path, capsys, terminal):
    terminal()
    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS, encoding="utf-8")
    code, out, _err = _run(capsys, "import", str(path), "--entity", "contacts")
    assert code == 0
    assert "as contacts; columns «Фамилия» → Surname" in out and "2 created" in out and "1 failed" in out, out


def test_the_help_and_the_refusals_of_the_other_commands_are_russian_too(org, capsys, terminal):
    terminal(LANG="ru_RU.UTF-8")
    code, out, _err = _run(capsys, "--help")
    assert code == 0 and "импортировать контакты, компании, лиды или сделки" in out
    code, out, err = _run(capsys, "user", "add", "manager", "--role", "manager", "--team", "Продажи Москва")
    assert code == 2 and err.startswith("krug: ошибка: имя пользователя: "), err
    code, out, err = _run(capsys, "user", "add", "ural", "--role", "head", "--team", "Продажи Урал")
    assert code == 0 and "Создан пользователь ural (руководитель отдела продаж) в команде «Продажи Урал»." in out
    assert "Пароль не задан" in out and "API-токен" in out
    code, out, _err = _run(capsys, "quality", "scan")
    assert code == 0 and out.startswith("Проверено: 0 контактов за "), out


def test_krug_import_stops_before_writing_when_values_would_fail_rows(org, tmp_path, capsys, terminal):
    """A Bitrix24 file names owners Krug has no account for and types it has no word for: each of those rows
    would fail. The command says which values, in how many rows, and what they may become, before a row is
    written; `--value` settles them, `--anyway` imports the rest."""
    terminal(LANG="ru_RU.UTF-8")
    path = tmp_path / "contacts.csv"
    path.write_text("Фамилия;Тип контакта;Ответственный\nСмирнов;Клиенты;Мария Кузнецова\n"
                    "Петрова;Клиенты;Мария Кузнецова\nОрлов;VIP;\n", encoding="utf-8")
    code, _out, err = _run(capsys, "import", str(path), "--as", "admin")
    assert code == 2 and not Contact.objects.exists()
    assert "«Тип клиента» (client_type):\n  «Клиенты» — 2 строки\n  варианты: new, returning, vip" in err, err
    assert "«Ответственный» (owner):\n  «Мария Кузнецова» — 2 строки; в Круге нет активного пользователя" in err
    assert "--anyway" in err
    code, out, err = _run(capsys, "import", str(path), "--as", "admin", "--anyway")
    assert code == 0 and "создано 1" in out and "с ошибками 2" in out, out + err
    code, out, err = _run(capsys, "import", str(path), "--as", "admin", "--value", "client_type:Клиенты=returning",
                          "--value", "owner:Мария Кузнецова=manager")
    assert code == 0 and "создано 3" in out, out + err


def test_argparse_own_words_are_russian_to_a_russian_terminal(db, capsys, terminal):
    terminal(LANG="ru_RU.UTF-8")
    code, out, err = _run(capsys, "import", "x.csv", "--entity", "planets")
    assert code == 2
    assert "использование: krug import" in err, err
    assert "krug import: ошибка: аргумент --entity: недопустимое значение: 'planets' (выберите из " in err, err
    code, out, err = _run(capsys, "user", "add")
    assert "не указаны обязательные аргументы: " in err, err
    code, out, err = _run(capsys, "import", "--help")
    assert code == 0 and "параметры:" in out and "показать эту справку и выйти" in out, out


def test_argparse_own_words_stay_english_to_an_english_terminal(db, capsys, terminal):
    terminal(LANG="en_US.UTF-8")
    code, out, err = _run(capsys, "import", "x.csv", "--entity", "planets")
    assert code == 2
    assert "usage: krug import" in err and "error: argument --entity: invalid choice: 'planets'" in err, err
