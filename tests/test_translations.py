"""The translation catalogues: every .po file in the project (the root's locale/ for the
templates and console/, and each app's <app>/locale/) is complete, has no fuzzy entry,
keeps the placeholders of every message, and its .mo is built from it as it is now."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# %(name)s and %s (Python's formats, as gettext and blocktranslate write them) and {name}.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


def catalogues() -> list[Path]:
    found = sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po")) + sorted(
        ROOT.glob("*/locale/*/LC_MESSAGES/*.po")
    )
    return [path for path in found if ".venv" not in path.parts]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def name(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


def problems(po: polib.POFile) -> list[str]:
    """What is wrong with a catalogue, one line per entry."""
    found = []
    if po.metadata_is_fuzzy:
        found.append("the header is marked fuzzy")
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy: {name(entry)!r}")
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            if not forms or not all(forms.values()):
                found.append(f"untranslated: {name(entry)!r}")
                continue
            # Chinese has one form for every number: it carries the plural's placeholders.
            expected = placeholders(entry.msgid_plural)
            for index, text in forms.items():
                if placeholders(text) != expected:
                    found.append(
                        f"placeholders differ in msgstr[{index}] of {name(entry)!r}: "
                        f"{sorted(placeholders(text))} instead of {sorted(expected)}"
                    )
        else:
            if not entry.msgstr:
                found.append(f"untranslated: {name(entry)!r}")
                continue
            if placeholders(entry.msgstr) != placeholders(entry.msgid):
                found.append(
                    f"placeholders differ in {name(entry)!r}: "
                    f"{sorted(placeholders(entry.msgstr))} instead of "
                    f"{sorted(placeholders(entry.msgid))}"
                )
    return found


def messages(catalogue) -> dict:
    """(context, msgid) -> translation(s), of the translated entries."""
    return {
        (entry.msgctxt, entry.msgid): (
            tuple(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
        )
        for entry in catalogue
        if entry.msgid and not entry.obsolete and "fuzzy" not in entry.flags
    }


def test_the_project_has_its_chinese_catalogue():
    assert ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po" in catalogues()


@pytest.mark.parametrize("path", catalogues(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_message_is_translated_with_the_same_placeholders_and_none_is_fuzzy(path):
    found = problems(polib.pofile(str(path)))
    assert not found, f"{path.relative_to(ROOT)}:\n" + "\n".join(found)


@pytest.mark.parametrize("path", catalogues(), ids=lambda path: str(path.relative_to(ROOT)))
def test_the_mo_file_is_built_from_the_current_po_file(path):
    mo = path.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: run `make messages`"
    assert messages(polib.mofile(str(mo))) == messages(polib.pofile(str(path))), (
        f"{mo.relative_to(ROOT)} is older than its .po: run `make messages`"
    )


BROKEN = r"""
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=1; plural=0;\n"

msgid "Not translated"
msgstr ""

#, fuzzy
msgid "Guessed"
msgstr "猜的"

msgid "Order #%(number)s"
msgstr "订单 #%(id)s"

msgid "{count} left"
msgstr "剩余"

msgid "%(days)s day"
msgid_plural "%(days)s days"
msgstr[0] "天"

msgid "Fine %(name)s"
msgstr "好 %(name)s"
"""


def test_the_check_finds_untranslated_fuzzy_and_changed_placeholders(tmp_path):
    path = tmp_path / "django.po"
    path.write_text(BROKEN, encoding="utf-8")
    found = "\n".join(problems(polib.pofile(str(path))))
    assert "untranslated: 'Not translated'" in found
    assert "fuzzy: 'Guessed'" in found
    assert "placeholders differ in 'Order #%(number)s'" in found
    assert "placeholders differ in '{count} left'" in found
    assert "placeholders differ in msgstr[0] of '%(days)s day'" in found
    assert "Fine" not in found
