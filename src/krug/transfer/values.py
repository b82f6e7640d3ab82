"""What a file's values become, for the fields that take one of a known set: the owner, a contact's client
type, a lead's source, a deal's pipeline, stage and currency, and the administrator's pick-list fields.

A file from another CRM names these its own way: amoCRM's and Bitrix24's "Ответственный" holds people who
may have no account in Krug yet, or another spelling of one; Bitrix24's "Тип контакта" says «Клиенты»;
amoCRM's "Этап сделки" says «Первичный контакт». Each such value would fail its rows. Before the import
starts, the mapping page lists every value the file holds in these columns, with what Krug makes of it, and
the user chooses what each becomes (`ImportJob.values`: field -> the value as `norm` keys it -> an option's
value, "" for "as if the cell were empty"). The import then reads each cell through that choice
(`substitutions`, applied by `rows.to_data`), on both of its paths alike.

A stage is chosen per pipeline (`stage_choices`): «Переговоры» may be a different stage in each, and a deal's
stage must be one of its pipeline's. `values["stage"]` is {pipeline id: {value: stage name}}, and the deal
import applies it (`importer.deal_stage`) once it knows the row's pipeline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.utils.translation import gettext as _

from krug.core.errors import FieldErrors
from krug.transfer.models import ImportJob

SCAN_ROWS = 200_000  # rows read for the values shown on the page; the rest of a larger file is read by the run
MAX_VALUES = 300  # different values of one column shown; a column with more is not one to choose value by value
EMPTY = ""  # the choice "as if the cell were empty": the field's default (the importing user, the first stage)
ANY = "*"  # stage choices made for every pipeline that has the chosen stage (`stage_choices`)


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
        return _stages(job.by)
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


def _stages(by) -> list[Option]:
    """Every live stage's name once, with the pipelines that have it: a row's pipeline decides which one."""
    from krug.sales import services
    from krug.sales.models import Stage

    services.default_pipeline(by)  # made on first use, as the import makes it
    pipelines: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for name, pipeline in (Stage.objects.alive().filter(pipeline__deleted_at__isnull=True)
                           .order_by("pipeline__position", "pipeline_id", "position")
                           .values_list("name", "pipeline__name")):
        names.setdefault(norm(name), name)
        pipelines.setdefault(norm(name), []).append(pipeline)
    return [Option(name, f"{name} ({', '.join(pipelines[key])})") for key, name in names.items()]


class Pipelines:
    """The live pipelines with their live stages, read at once: what a deal row's pipeline and stage names point
    at (compared as `norm` keys them) and which pipeline its stage value is looked for, and chosen, in (`home`).
    The import (`importer.deal_stage`) and the value page ask the same."""

    def __init__(self) -> None:
        from krug.sales.models import Pipeline, Stage

        self.all = list(Pipeline.objects.alive().order_by("position", "pk"))
        by_id = {pipeline.pk: pipeline for pipeline in self.all}
        self.stages: dict[int, list] = {pk: [] for pk in by_id}
        for stage in Stage.objects.alive().filter(pipeline_id__in=list(by_id)).order_by("position", "pk"):
            stage.pipeline = by_id[stage.pipeline_id]
            self.stages[stage.pipeline_id].append(stage)
        self.default = next((p for p in self.all if p.is_default), self.all[0] if self.all else None)

    def named(self, name: str):
        key = norm(name)
        return next((pipeline for pipeline in self.all if norm(pipeline.name) == key), None)

    def find(self, key: str):
        """A pipeline as a stage choice names it: by its id, else by its name."""
        return next((pipeline for pipeline in self.all if str(pipeline.pk) == key), None) or self.named(key)

    def stage(self, pipeline, name: str):
        key = norm(name)
        return next((stage for stage in self.stages.get(pipeline.pk, ()) if norm(stage.name) == key), None)

    def having(self, name: str) -> list:
        """The pipelines with a stage of this name, in their order."""
        return [pipeline for pipeline in self.all if self.stage(pipeline, name) is not None]

    def home(self, pipeline, stage_name: str):
        """The pipeline a row's stage is looked for in: its own; without one the default, unless only other
        pipelines have the stage, then the first of those (as a file without pipelines has always been read)."""
        if pipeline is not None or self.default is None or self.stage(self.default, stage_name) is not None:
            return pipeline or self.default
        return next(iter(self.having(stage_name)), self.default)


def stage_choices(job: ImportJob, known: Pipelines | None = None) -> dict[int, dict[str, str]]:
    """What a deal row's stage value becomes in the row's pipeline: {pipeline id: {norm(value): stage name or
    EMPTY}}. A choice for every pipeline (`ANY`, or one stored before stages were chosen per pipeline, {value:
    stage name}) counts in each pipeline that has a stage of that name (EMPTY: in each), unless chosen there."""
    known = known or Pipelines()
    groups = _stage_groups((job.values or {}).get("stage") or {})
    out = {int(key): group for key, group in groups.items() if key.isdigit()}
    for value, target in groups.get(ANY, {}).items():
        for pipeline in known.all if target == EMPTY else known.having(target):
            out.setdefault(pipeline.pk, {}).setdefault(value, target)
    return out


def _stage_groups(stored: dict) -> dict[str, dict[str, str]]:
    """Stored stage choices by pipeline (its id as text, or ANY); those stored before stages were chosen per
    pipeline ({value: stage name}) are ANY's."""
    groups = {key: dict(group) for key, group in stored.items() if isinstance(group, dict)}
    flat = {value: target for value, target in stored.items() if not isinstance(target, dict)}
    if flat:
        groups[ANY] = {**flat, **groups.get(ANY, {})}
    return groups


def _stage_options(known: Pipelines, key: str) -> set[str] | None:
    """The stage names a stage choice of the pipeline `key` (an id or name, or ANY: any pipeline's) may be;
    None when there is no such pipeline."""
    if key == ANY:
        return {stage.name for stages in known.stages.values() for stage in stages}
    pipeline = known.find(key)
    return None if pipeline is None else {stage.name for stage in known.stages[pipeline.pk]}


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
            from krug.accounts.models import User

            pk = self.owners.find(text)
            username = User.objects.filter(pk=pk).values_list("username", flat=True).first() if pk else None
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
    """The values of the job's value columns, read from the first `limit` rows, each with how many rows hold
    it, what the import makes of it by itself (`recognised`) and what it will become (`becomes`: the user's
    choice, else the recognised value; None: the row fails). Unrecognised values come first."""
    from krug.transfer import importer, mapping
    from krug.transfer.services import custom_fields_of

    columns = fields(job)
    if not columns:
        return {"fields": [], "rows": 0, "complete": True}
    counts: dict[str, Counter] = {name: Counter() for _p, name in columns}
    spelled: dict[tuple[str, str], str] = {}
    in_pipeline: Counter = Counter()  # (the row's pipeline cell, its stage value) -> rows
    pipeline_at = job.mapping.index("pipeline") if "pipeline" in job.mapping else len(job.mapping)
    rows, complete = 0, True
    for _number, cells in importer.data_rows(job):
        if rows >= limit:
            complete = False
            break
        rows += 1
        for position, name in columns:
            text = cells[position].strip() if position < len(cells) and cells[position] else ""
            if text:
                key = norm(text)
                counts[name][key] += 1
                spelled.setdefault((name, key), " ".join(text.split()))
                if name == "stage":
                    in_pipeline[norm(cells[pipeline_at] if pipeline_at < len(cells) else ""), key] += 1
    recognise = Recogniser(job)
    known = mapping.targets(job.entity, custom_fields_of(job.entity))
    out = []
    for _position, name in columns:
        if name == "stage":
            out += _stage_fields(job, recognise, in_pipeline, spelled, str(known[name].label))
            continue
        chosen = (job.values or {}).get(name, {})
        values = []
        for key, count in counts[name].most_common(MAX_VALUES):
            text = spelled[(name, key)]
            recognised = recognise(name, text)
            becomes = chosen[key] if key in chosen else recognised
            values.append({"value": text, "key": key, "rows": count, "recognised": recognised, "becomes": becomes,
                           "chosen": key in chosen, "problem": recognise.problems.get((name, text), "")})
        values.sort(key=lambda v: (v["becomes"] is not None, -v["rows"]))
        out.append({"field": name, "label": str(known[name].label), "values": values,
                    "more": max(len(counts[name]) - MAX_VALUES, 0),
                    "options": [{"value": o.value, "label": o.label} for o in recognise.options(name)]})
    return {"fields": out, "rows": rows, "complete": complete}


def _stage_fields(job: ImportJob, recognise: Recogniser, in_pipeline: Counter, spelled: dict,
                  label: str) -> list[dict]:
    """The stage values, a list for each pipeline they are chosen in (`Pipelines.home` of the row's pipeline,
    after its own choice), with that pipeline's stages as options; the values of rows whose pipeline is not
    recognised (yet) in one more list, chosen for every pipeline that has the stage (`ANY`)."""
    from krug.sales import services

    services.default_pipeline(job.by)  # made on first use, as the import makes it
    known = Pipelines()
    chosen, pipelines = stage_choices(job, known), (job.values or {}).get("pipeline") or {}
    chosen[None] = _stage_groups((job.values or {}).get("stage") or {}).get(ANY, {})
    groups: dict[int | None, Counter] = {}
    for (pipeline_text, key), count in in_pipeline.items():
        target = pipelines.get(pipeline_text, pipeline_text)
        pipeline = known.named(target) if target else None
        home = None if target and pipeline is None else known.home(pipeline, key)
        groups.setdefault(home.pk if home else None, Counter())[key] += count
    out = []
    for pipeline in [*known.all, None]:
        counted = groups.get(pipeline.pk if pipeline else None)
        if not counted:
            continue
        picked, values = chosen.get(pipeline.pk if pipeline else None, {}), []
        for key, count in counted.most_common(MAX_VALUES):
            text = spelled[("stage", key)]
            stage = known.stage(pipeline, key) if pipeline else None
            recognised = (stage.name if stage else None) if pipeline else recognise("stage", text)
            elsewhere = [p.name for p in known.having(key)] if pipeline and stage is None else []
            values.append({"value": text, "key": key, "rows": count, "recognised": recognised,
                           "becomes": picked[key] if key in picked else recognised, "chosen": key in picked,
                           "problem": services.stage_elsewhere(text, elsewhere, pipeline.name) if elsewhere else ""})
        values.sort(key=lambda v: (v["becomes"] is not None, -v["rows"]))
        options = ([{"value": s.name, "label": s.name} for s in known.stages[pipeline.pk]] if pipeline else
                   [{"value": o.value, "label": o.label} for o in recognise.options("stage")])
        out.append({"field": "stage", "pipeline": pipeline.name if pipeline else None,
                    "pipeline_id": pipeline.pk if pipeline else None,
                    "label": f"{label} · {pipeline.name}" if pipeline else
                    _("%(field)s · rows whose pipeline is not recognised yet (the stage of this name in any "
                      "pipeline)") % {"field": label},
                    "values": values, "more": max(len(counted) - MAX_VALUES, 0), "options": options})
    return out


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
            cleaned[name] = _checked_stages(job, choices, errors)
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


def _checked_stages(job: ImportJob, choices: dict, errors: FieldErrors) -> dict[str, dict[str, str]]:
    """Stage choices, cleaned: {pipeline id: {value: one of its stages}}, given by a pipeline's id or name; a
    choice for every pipeline (`ANY`, or {value: stage}, as before stages were chosen per pipeline) stays ANY's.
    A pipeline that is not there, or a stage that is not one of its own, is named on `values.stage.<pipeline>`
    (`values.stage` for the old form)."""
    from krug.sales import services

    services.default_pipeline(job.by)  # made on first use, as the page and the import make it
    known = Pipelines()
    cleaned: dict[str, dict[str, str]] = {}
    for key, given in choices.items():
        where, group = (f"values.stage.{key}", given) if isinstance(given, dict) else ("values.stage", {key: given})
        pipeline_key = ANY if not isinstance(given, dict) or key == ANY else key
        allowed = _stage_options(known, pipeline_key)
        if allowed is None:
            errors.add(where, _("no pipeline %(name)s") % {"name": key})
            continue
        pipeline = None if pipeline_key == ANY else known.find(pipeline_key)
        into = cleaned.setdefault(str(pipeline.pk) if pipeline else ANY, {})
        for value, target in group.items():
            target = "" if target is None else str(target)
            if target != EMPTY and target not in allowed:
                message = (_("«%(value)s» cannot become «%(target)s»: not a stage of the pipeline «%(pipeline)s»")
                           if pipeline else _("«%(value)s» cannot become «%(target)s»: not one of the choices"))
                errors.add(where, message % {"value": value, "target": target,
                                             "pipeline": pipeline.name if pipeline else ""})
                continue
            into[norm(str(value))] = target
    return {key: group for key, group in cleaned.items() if group}


REMEMBERED_JOBS = 50  # the user's latest imports whose choices a new one starts from


def remembered(job: ImportJob) -> dict[str, dict[str, str]]:
    """The choices the user made in his earlier imports (of any kind: an owner's name means the same person in
    the deals file as in the contacts file), the latest winning, for the job's value columns and still valid:
    «Мария Кузнецова → petrova» is chosen once for a migration's six files, not six times."""
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
                for key, group in _stage_groups(choices).items():
                    stages.setdefault(key, {}).update(group)
            elif name in columns:
                found.setdefault(name, {}).update(choices)
    allowed = {name: {o.value for o in options(job, name)} | {EMPTY} for name in found}
    out = {name: kept for name, choices in found.items()
           if (kept := {key: target for key, target in choices.items() if target in allowed[name]})}
    if stages:  # a pipeline's choices while it is there, each while its stage is
        known = Pipelines()
        allowed_stages = {key: _stage_options(known, key) for key in stages}
        kept_stages = {key: kept for key, group in stages.items() if allowed_stages[key] is not None and (
            kept := {value: target for value, target in group.items() if target in allowed_stages[key] | {EMPTY}})}
        if kept_stages:
            out["stage"] = kept_stages
    return out


def substitutions(job: ImportJob) -> dict[str, dict[str, str]]:
    """What `rows.to_data` reads each value cell through: {field as a row's data names it: {norm(value): the
    text the cell becomes}}. Custom fields are keyed by their key, as the row's data holds them. A stage is not
    read through it: its choice depends on the row's pipeline (`stage_choices`)."""
    return {(name[3:] if name.startswith("cf.") else name): choices
            for name, choices in (job.values or {}).items() if choices and name != "stage"}
