"""REST endpoints of activities: tasks (with complete and postpone), calls, meetings and notes."""

from django.db import transaction
from django.utils import timezone
from ninja import Router

from krug.activities import schemas, services
from krug.activities.models import Call, Meeting, Note, Task
from krug.core import permissions, records
from krug.core.api import ERRORS, Resource, add_crud_routes, filter_present


def _filter_links(qs, params):
    return filter_present(qs, contact=params.contact, company=params.company, deal=params.deal)


def _rows(qs):
    """Everything the list shows in one query: the attached client, company and deal names."""
    return qs.select_related("contact", "company", "deal")


# ---- tasks --------------------------------------------------------------------------------------------

def _filter_tasks(qs, params, request):
    qs = filter_present(_filter_links(qs, params), state__in=params.state, priority__in=params.priority,
                        due_at__gte=params.due_from, due_at__lte=params.due_to)
    if params.overdue is not None:
        overdue = Task.overdue_q(timezone.now())
        qs = qs.filter(overdue) if params.overdue else qs.exclude(overdue)
    return qs


tasks_router = Router(tags=["tasks"])
add_crud_routes(tasks_router, Resource(
    slug="tasks", model=Task, out=schemas.TaskOut, create_in=schemas.TaskIn, update_in=schemas.TaskPatch,
    filters=schemas.TaskFilters, create=services.create_task, update=services.update_task,
    apply_filters=_filter_tasks, list_queryset=_rows, delete=services.delete_activity,
))


def _task_row(pk: int) -> Task:
    return _rows(Task.objects.filter(pk=pk)).get()


@tasks_router.post("/{int:pk}/complete", response={200: schemas.TaskOut, **ERRORS},
                   operation_id="tasks_complete", summary="Mark a task done")
def complete_task(request, pk: int, payload: schemas.CompleteIn):
    with transaction.atomic():
        task = records.get_for(request.auth, Task, pk, permissions.CHANGE)
        services.complete_task(request.auth, task, payload.version)
    return _task_row(pk)


@tasks_router.post("/{int:pk}/postpone", response={200: schemas.TaskOut, **ERRORS},
                   operation_id="tasks_postpone", summary="Move a task to a later due time")
def postpone_task(request, pk: int, payload: schemas.PostponeIn):
    with transaction.atomic():
        task = records.get_for(request.auth, Task, pk, permissions.CHANGE)
        services.postpone_task(request.auth, task, payload.until, payload.version)
    return _task_row(pk)


# ---- calls --------------------------------------------------------------------------------------------

def _filter_calls(qs, params, request):
    return filter_present(_filter_links(qs, params), direction=params.direction, result__in=params.result,
                          started_at__gte=params.started_from, started_at__lte=params.started_to)


calls_router = Router(tags=["calls"])
add_crud_routes(calls_router, Resource(
    slug="calls", model=Call, out=schemas.CallOut, create_in=schemas.CallIn, update_in=schemas.CallPatch,
    filters=schemas.CallFilters, create=services.create_call, update=services.update_call,
    apply_filters=_filter_calls, list_queryset=_rows, delete=services.delete_activity,
    orders=("id", "created_at", "updated_at", "started_at"),
))


# ---- meetings -----------------------------------------------------------------------------------------

def _filter_meetings(qs, params, request):
    return filter_present(_filter_links(qs, params), state__in=params.state, starts_at__gte=params.starts_from,
                          starts_at__lte=params.starts_to)


meetings_router = Router(tags=["meetings"])
add_crud_routes(meetings_router, Resource(
    slug="meetings", model=Meeting, out=schemas.MeetingOut, create_in=schemas.MeetingIn,
    update_in=schemas.MeetingPatch, filters=schemas.MeetingFilters, create=services.create_meeting,
    update=services.update_meeting, apply_filters=_filter_meetings, list_queryset=_rows,
    delete=services.delete_activity, orders=("id", "created_at", "updated_at", "starts_at"),
))


# ---- notes --------------------------------------------------------------------------------------------

notes_router = Router(tags=["notes"])
add_crud_routes(notes_router, Resource(
    slug="notes", model=Note, out=schemas.NoteOut, create_in=schemas.NoteIn, update_in=schemas.NotePatch,
    filters=schemas.ActivityFilters, create=services.create_note, update=services.update_note,
    apply_filters=lambda qs, params, request: _filter_links(qs, params), list_queryset=_rows,
    delete=services.delete_activity,
))


routers = [("/tasks", tasks_router), ("/calls", calls_router), ("/meetings", meetings_router),
           ("/notes", notes_router)]
