"""The Russian catalogue is complete and compiled: no empty or fuzzy entry, and the .mo matches the .po."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

CATALOGUE = Path(__file__).resolve().parents[1] / "src" / "krug" / "locale" / "ru" / "LC_MESSAGES"


def _entries(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if re.search(r"^msgid ", block, re.M)][1:]  # skip the header


def test_every_russian_entry_is_translated_and_none_is_fuzzy():
    entries = _entries((CATALOGUE / "django.po").read_text(encoding="utf-8"))
    assert len(entries) > 500
    fuzzy = [e for e in entries if "#, fuzzy" in e]
    empty = [e for e in entries if re.search(r'^msgstr(\[\d\])? ""\n?(?!")', e + "\n", re.M)
             and not re.search(r'^msgstr(\[\d\])? ""\n"', e, re.M)]
    assert fuzzy == [] and empty == [], (fuzzy + empty)[:5]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext is not installed")
def test_the_compiled_catalogue_is_the_current_one(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(CATALOGUE / "django.po")], check=True)
    assert fresh.read_bytes() == (CATALOGUE / "django.mo").read_bytes(), \
        "run: msgfmt -o src/krug/locale/ru/LC_MESSAGES/django.mo src/krug/locale/ru/LC_MESSAGES/django.po"
