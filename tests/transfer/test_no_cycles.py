"""An import frees each chunk when it is done with it. It runs with next to no full garbage collections
(`core.bulk.fewer_collections`), so anything that ties a chunk into a reference cycle (an exception kept with
its traceback, which holds the frame that holds the chunk) stays until the run ends: a file of 100,000 company
changes grew the worker to 585 MB that way (session 23). Each kind's import, on both paths and with rows that
fail, leaves no cycle behind."""

import gc

import pytest

from krug.transfer import bulk_contacts
from tests import factories
from tests.transfer.both_paths import import_file

FILES = {
    # rows the cleaning refuses (a bad INN), and changes by ID that give no name
    "companies": ("ID;Наименование;ИНН;Телефон\n" + "".join(f"C{n};Компания {n};{'12' if n % 3 else ''};\n"
                                                          for n in range(30)),
                  "ID;Телефон;Город\n" + "".join(f"C{n};+7 495 111-22-{n:02d};Тула\n" for n in range(30))),
    # a company no one has by that INN, named row after row; changes by ID without a name
    "contacts": ("ID;Фамилия;Имя;Компания;ИНН компании;Телефон\n" +
                 "".join(f"P{n};Иванов{n};Иван;;{'7707083893' if n % 2 else ''};+7 916 100-00-{n:02d}\n"
                         for n in range(30)),
                 "ID;Телефон;E-mail\n" + "".join(f"P{n};+7 916 200-00-{n:02d};bad@\n" for n in range(30))),
    "leads": ("ID;Название;Телефон\n" + "".join(f"L{n};Заявка {n};{'12' if n % 3 else '+79161000000'}\n"
                                               for n in range(30)),
              "ID;Телефон\n" + "".join(f"L{n};bad\n" for n in range(30))),
    "deals": ("ID;Название;Сумма\n" + "".join(f"D{n};Сделка {n};{'много' if n % 3 else '100'}\n" for n in range(30)),
              "ID;Сумма\n" + "".join(f"D{n};плохо\n" for n in range(30))),
}


def _left_behind(run) -> list:
    """The chunk's rows and the frames that hold them found in cyclic garbage after `run()`."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run()
        gc.collect()
        return [o for o in gc.garbage if isinstance(o, bulk_contacts.Row) or
                (type(o).__name__ == "frame" and "/krug/" in o.f_code.co_filename)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@pytest.mark.parametrize("bulk", [False, True], ids=["per row", "set-based"])
@pytest.mark.parametrize("entity", list(FILES))
def test_an_import_leaves_no_cycle_behind(org, tmp_path, entity, bulk):
    factories.company(org.admin, name="Чужая", inn="7707083893", owner=org.outsider)
    first, changes = tmp_path / f"{entity}.csv", tmp_path / f"{entity}-changes.csv"
    first.write_text(FILES[entity][0], encoding="utf-8")
    changes.write_text(FILES[entity][1], encoding="utf-8")
    jobs = []

    def both():
        jobs.append(import_file(org.manager, entity, first, bulk=bulk, chunk=10))
        jobs.append(import_file(org.manager, entity, changes, bulk=bulk, chunk=10, key="external_id"))

    assert _left_behind(both) == []
    assert all(job.failed for job in jobs)  # the rows that fail went through their failing paths
