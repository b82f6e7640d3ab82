"""What a file's values become, for the fields that take one of a known set: the owner, a contact's client
type, a lead's source, a deal's pipeline, stage and currency, and the administrator's pick-list fields.

A file from another CRM names these its own way: amoCRM's and Bitrix24's "Ответственный" holds people who
may have no account in Krug yet, or another spelling of one; Bitrix24's "Тип контакта" says «Клиенты»;
amoCRM's "Этап сделки" says «Первичный контакт». Each such value would fail its rows. Before the import
starts, the mapping page lists every value the file holds in these columns, with what Krug makes of it, and
the user chooses what each becomes (`ImportJob.values`: field -> the value as `norm` keys it -> an option's
value, "" for "as if the cell were empty"). The import then reads each cell through that choice
(`substitutions`, applied by `rows.to_data`), on both of its paths alike.

A stage is chosen per pipeline: «Переговоры» may be a different stage in each (`transfer.stage_values`).

The page is drawn again at every choice, and reading the file's first 200,000 rows takes over a second, so the
values are counted once and kept on the job (`tally`); the user's choices are applied to the counts each time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.utils.translation import gettext as _

from krug.core.errors import FieldErrors
from krug.transfer.models import ImportJob

SCAN_ROWS = 200_000  # rows read for the values shown on the page; the rest of a larger file is read by the run
MAX_VALUES = 300  # different values of one column shown; a column with more is not one to choose value by value
MAX_PAIRS = 1_000  # (pipeline, stage) pairs of values a tally keeps: dozens of pipelines' stages; a file with
# more has a column of free text mapped to the stage or the pipeline, not one to choose stage by stage
EMPTY = ""  # the choice "as if the cell were empty": the field's default (the importing user, the first stage)


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def norm(text: str) -> str:
    """How a file's value is keyed: `Петров  Иван ` and `петров иван` are one value."""
    return " ".join((text or "").split()).casefold()


def fields(job: ImportJob) -> list[tuple[int, str]]:
    """(column, field) of the job's mapped columns whose values are chosen from a known set."""
    from krug.transfer.services import custom_fields_of

    custom = custom_fields_of(job.entity)
    fixed = _FIXED.get(job.entity, ())
    found = []
    for position, name in enumerate(job.mapping):
        if name in fixed or (name.startswith("cf.") and _pick_list(custom.get(name[3:]))):
            found.append((position, name))
    return found


def _pick_list(field) -> bool:
    from krug.core.models import CustomField

    return field is not None and field.type == CustomField.Type.CHOICE


_FIXED = {"contacts": ("owner", "client_type"), "companies": ("owner",),
          "leads": ("owner", "source"), "deals": ("owner", "pipeline", "stage", "currency")}


def options(job: ImportJob, field: str) -> list[Option]:
    """What a value of `field` may become (besides EMPTY)."""
    if field == "owner":
        return _owners(job.by)
    if field == "client_type":
        from krug.clients.models import Contact

        return [Option(value, str(label)) for value, label in Contact.ClientType.choices]
    if field == "source":
        from krug.clients.models import Lead

        return [Option(value, str(label)) for value, label in Lead.Source.choices]
    if field == "pipeline":
        from krug.sales.models import Pipeline

        return [Option(name, name) for name in Pipeline.objects.alive().order_by("position", "pk")
                .values_list("name", flat=True)]
    if field == "stage":
        from krug.transfer.stage_values import every_stage

        return every_stage(job.by)
    if field == "currency":
        return _currencies()
    if field.startswith("cf."):
        from krug.transfer.services import custom_fields_of

        definition = custom_fields_of(job.entity).get(field[3:])
        return [Option(str(choice), str(choice)) for choice in (definition.choices if definition else [])]
    return []


def _owners(by) -> list[Option]:
    from krug.accounts.models import User
    from krug.core import permissions

    users = User.objects.filter(is_active=True).select_related("team").order_by("last_name", "first_name",
                                                                               "username")
    return [Option(user.username, f"{user.get_full_name() or user.username} ({user.username})")
            for user in users if permissions.can_assign(by, user)]


def _currencies() -> list[Option]:
    """The currencies the import knows by name (`rows.parse_currency`), and any other the base's deals are in."""
    from krug.sales.models import Deal
    from krug.transfer.rows import CURRENCY_CODES

    used = Deal.objects.order_by().values_list("currency", flat=True).distinct()
    return [Option(code, code) for code in dict.fromkeys([*CURRENCY_CODES, *sorted(used)]) if code]


class Recogniser:
    """What the import makes of a value by itself, without a choice: an option's value, or None when the value
    would fail its row. It asks what the import asks (the owners' lookup, the known spellings of client types
    and sources, the pipelines' and stages' names)."""

    def __init__(self, job: ImportJob) -> None:
        from krug.transfer.rows import Owners

        self.job, self.owners = job, Owners()
        self._options: dict[str, list[Option]] = {}
        self._by_key: dict[str, dict[str, str]] = {}
        self.problems: dict[tuple[str, str], str] = {}  # why a value is not recognised, where it is not obvious

    def options(self, field: str) -> list[Option]:
        """`options` of the job's field, asked once (a user list, the base's currencies)."""
        if field not in self._options:
            self._options[field] = options(self.job, field)
        return self._options[field]

    def _by_norm(self, field: str) -> dict[str, str]:
        if field not in self._by_key:
            self._by_key[field] = {norm(o.value): o.value for o in self.options(field)}
        return self._by_key[field]

    def __call__(self, field: str, text: str) -> str | None:
        if field == "owner":  # one of the users the importing user may assign records to, as the run checks
            pk = self.owners.find(text)
            username = self.owners.usernames.get(pk) if pk else None
            if username is None:
                self.problems[(field, text)] = _("no active user of Krug has this name, login or e-mail")
            elif username not in self._by_norm(field).values():
                self.problems[(field, text)] = _("you may not assign records to this user")
                return None
            return username
        if field == "client_type":
            from krug.transfer.rows import parse_client_type

            code = parse_client_type(text)
            return code if code in self._by_norm(field).values() else None
        if field == "source":
            from krug.transfer.importer import lead_source

            code = lead_source(text)
            return code if code in self._by_norm(field).values() else None
        if field == "currency":
            from krug.transfer.rows import parse_currency

            try:
                return parse_currency(text)
            except ValueError:
                return None
        if field in ("pipeline", "stage"):  # a stage by its name in any pipeline (the page lists it by pipeline)
            return self._by_norm(field).get(norm(text))
        if field.startswith("cf."):  # a list's choice in any case, as `custom_fields` takes it
            return self._by_norm(field).get(norm(text))
        return None


def found(job: ImportJob, limit: int = SCAN_ROWS) -> dict:
    """The values of the job's value columns, read from the first `limit` rows (once: `tally`), each with how
    many rows hold it, what the import makes of it by itself (`recognised`) and what it will become (`becomes`:
    the user's choice, else the recognised value; None: the row fails). Unrecognised values come first."""
    from krug.transfer import mapping
    from krug.transfer.services import custom_fields_of
    from krug.transfer.stage_values import stage_lists

    columns = fields(job)
    if not columns:
        return {"fields": [], "rows": 0, "complete": True}
    counted = tally(job, columns, limit)
    recognise = Recogniser(job)
    known = mapping.targets(job.entity, custom_fields_of(job.entity))
    out = []
    for _position, name in columns:
        if name == "stage":
            out += stage_lists(job, recognise, counted, str(known[name].label))
        else:
            out.append(_value_list(job, recognise, name, str(known[name].label), counted["columns"][name]))
    return {"fields": out, "rows": counted["rows"], "complete": counted["complete"]}


def _value_list(job: ImportJob, recognise: Recogniser, name: str, label: str, column: dict) -> dict:
    """A column's values as its tally keeps them (`column`), each with what it becomes, those that fail first."""
    chosen = (job.values or {}).get(name, {})
    values = []
    for text, count in column["top"]:
        key, recognised = norm(text), recognise(name, text)
        values.append({"value": text, "key": key, "rows": count, "recognised": recognised,
                       "becomes": chosen[key] if key in chosen else recognised, "chosen": key in chosen,
                       "problem": recognise.problems.get((name, text), "")})
    values.sort(key=lambda v: (v["becomes"] is not None, -v["rows"]))
    return {"field": name, "label": label, "values": values, "more": column["distinct"] - len(column["top"]),
            "options": [{"value": o.value, "label": o.label} for o in recognise.options(name)]}


def tally(job: ImportJob, columns: list[tuple[int, str]], limit: int = SCAN_ROWS) -> dict:
    """The value columns' values in the file's first `limit` rows, counted once and kept on the job
    (`ImportJob.tally`) with what they were counted for: the sheet, the header row, the columns (`fields`), the
    pipeline column and `limit`. Counted again when one of these differs, not for the user's choices: `found`
    applies them to the counts. Each column keeps its `MAX_VALUES` commonest values, spelled as first met
    (`norm` of it is the key), with the rows of each, the commonest first, and its number of different values."""
    basis = {"sheet": job.format.get("sheet", ""), "header_row": job.format.get("header_row", 0),
             "columns": [[position, name] for position, name in columns],
             "pipeline": job.mapping.index("pipeline") if "pipeline" in job.mapping else None, "limit": limit}
    if (job.tally or {}).get("for") != basis:
        counts, spelled, pairs, rows, complete = _count(job, columns, basis["pipeline"], limit)
        kept = {name: [[spelled[(name, key)], count] for key, count in counted.most_common(MAX_VALUES)]
                for name, counted in counts.items()}
        job.tally = {"for": basis, "rows": rows, "complete": complete,
                     "columns": {name: {"top": kept[name], "distinct": len(counts[name])} for name in counts},
                     **(_kept_pairs(pairs, kept["stage"], counts.get("pipeline")) if "stage" in counts else {})}
        ImportJob.objects.filter(pk=job.pk).update(tally=job.tally)  # the field alone: other requests change the job
    return job.tally


def _count(job: ImportJob, columns: list[tuple[int, str]], pipeline_at: int | None, limit: int) -> tuple:
    """Read the file's first `limit` rows: (each column's rows by value key, the first spelling of each (column,
    key), the rows of each (pipeline cell's key, stage key) pair, the rows read, whether that was all of them)."""
    from krug.transfer import importer

    counts: dict[str, Counter] = {name: Counter() for _p, name in columns}
    spelled: dict[tuple[str, str], str] = {}
    pairs: Counter = Counter()
    # a cell's key by its text, in each column: a value column says a few things many times, each keyed once
    plan = [(position, name, counts[name], {}) for position, name in columns]
    pipeline_keys: dict[str, str] = {}
    rows, complete = 0, True
    for _number, cells in importer.data_rows(job):
        if rows >= limit:
            complete = False
            break
        rows += 1
        width = len(cells)
        for position, name, counted, keys in plan:
            text = cells[position] if position < width else ""
            key = keys.get(text)
            if key is None:
                key = keys[text] = norm(text)
                if key:
                    spelled.setdefault((name, key), " ".join(text.split()))
            if key:
                counted[key] += 1
                if name == "stage":
                    pipeline = cells[pipeline_at] if pipeline_at is not None and pipeline_at < width else ""
                    if pipeline not in pipeline_keys:
                        pipeline_keys[pipeline] = norm(pipeline)
                    pairs[pipeline_keys[pipeline], key] += 1
    return counts, spelled, pairs, rows, complete


def _kept_pairs(pairs: Counter, stages: list[list], pipelines: Counter | None) -> dict:
    """What a tally keeps of the (pipeline cell, stage) pairs, for the stage lists of each pipeline
    (`stage_values.stage_lists`): `stages`, [{"pipeline": the pipeline cell's key, "top": [[the stage's index in
    the stage column's kept values, rows], ...], "left": how many of its stages are not kept}, ...] in the order
    met (a list: PostgreSQL's jsonb keeps no order of keys), at most `MAX_PAIRS` pairs, the commonest, of the
    values the stage and pipeline columns keep; `stages_left`: the stages of the pipeline cells with none kept."""
    at = {norm(text): index for index, (text, _rows) in enumerate(stages)}
    cells = {key for key, _rows in pipelines.most_common(MAX_VALUES)} if pipelines is not None else set()
    cells.add("")  # rows without a pipeline
    wanted = Counter({pair: rows for pair, rows in pairs.items() if pair[1] in at and pair[0] in cells})
    kept = dict(wanted.most_common(MAX_PAIRS))
    out: dict[str, dict] = {}
    for (cell, key), rows in pairs.items():
        if (cell, key) in kept:
            out.setdefault(cell, {"pipeline": cell, "top": [], "left": 0})["top"].append([at[key], rows])
    different = Counter(cell for cell, _key in pairs)
    for cell, entry in out.items():
        entry["left"] = different[cell] - len(entry["top"])
    return {"stages": list(out.values()), "stages_left": sum(n for cell, n in different.items() if cell not in out)}


def check(job: ImportJob, chosen: dict) -> dict[str, dict[str, str]]:
    """The user's choices, cleaned: {field: {file value: option value or EMPTY}}; ValidationFailed naming
    `values.<field>` for a field that is not a value column of the job or a choice that is not an option."""
    errors = FieldErrors()
    columns = {name for _p, name in fields(job)}
    cleaned: dict[str, dict[str, str]] = {}
    if not isinstance(chosen, dict):
        errors.add("values", _("give an object: field -> {value in the file: what it becomes}"))
        errors.raise_if_any()
    for name, choices in chosen.items():
        where = f"values.{name}"
        if name not in columns:
            allowed = ", ".join(sorted(columns)) or _("none in this file")
            errors.add(where, _("no column of the file is mapped to %(field)s with values to choose (those that "
                                "are: %(allowed)s)") % {"field": name, "allowed": allowed})
            continue
        if not isinstance(choices, dict):
            errors.add(where, _("give an object: {value in the file: what it becomes}"))
            continue
        if name == "stage":
            from krug.transfer.stage_values import checked_stages

            cleaned[name] = checked_stages(job, choices, errors)
            continue
        allowed_values = {o.value for o in options(job, name)}
        cleaned[name] = {}
        for value, target in choices.items():
            target = "" if target is None else str(target)
            if target != EMPTY and target not in allowed_values:
                errors.add(where, _("«%(value)s» cannot become «%(target)s»: not one of the choices")
                           % {"value": value, "target": target})
                continue
            cleaned.setdefault(name, {})[norm(str(value))] = target
    errors.raise_if_any()
    return cleaned


REMEMBERED_JOBS = 50  # the user's latest imports whose choices a new one starts from


def remembered(job: ImportJob) -> dict[str, dict[str, str]]:
    """The choices the user made in his earlier imports (of any kind: an owner's name means the same person in
    the deals file as in the contacts file), the latest winning, for the job's value columns and still valid:
    «Мария Кузнецова → petrova» is chosen once for a migration's six files, not six times."""
    from krug.transfer.stage_values import remembered_stages, stage_groups

    columns = {name for _p, name in fields(job)}
    if not columns:
        return {}
    earlier = (ImportJob.objects.filter(by=job.by).exclude(pk=job.pk).exclude(values={})
               .order_by("-pk").values_list("values", flat=True)[:REMEMBERED_JOBS])
    found: dict[str, dict[str, str]] = {}
    stages: dict[str, dict[str, str]] = {}
    for chosen in reversed(list(earlier)):
        for name, choices in (chosen or {}).items():
            if name == "stage" and name in columns:
                for key, group in stage_groups(choices).items():
                    stages.setdefault(key, {}).update(group)
            elif name in columns:
                found.setdefault(name, {}).update(choices)
    allowed = {name: {o.value for o in options(job, name)} | {EMPTY} for name in found}
    out = {name: kept for name, choices in found.items()
           if (kept := {key: target for key, target in choices.items() if target in allowed[name]})}
    if stages and (kept_stages := remembered_stages(stages)):
        out["stage"] = kept_stages
    return out


def substitutions(job: ImportJob) -> dict[str, dict[str, str]]:
    """What `rows.to_data` reads each value cell through: {field as a row's data names it: {norm(value): the
    text the cell becomes}}. Custom fields are keyed by their key, as the row's data holds them. A stage is not
    read through it: its choice depends on the row's pipeline (`stage_choices`)."""
    return {(name[3:] if name.startswith("cf.") else name): choices
            for name, choices in (job.values or {}).items() if choices and name != "stage"}

