"""Users and teams: everyone reads them (to assign work), administrators change them."""

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from krug.accounts import services
from krug.accounts.models import Team, User
from krug.core.api import ERRORS
from krug.core.errors import Forbidden, NotFound, ValidationFailed
from krug.core.permissions import Role, role_of

router = Router(tags=["users and teams"])


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    full_name: str
    email: str
    role: str
    team_id: int | None
    is_active: bool

    @staticmethod
    def resolve_full_name(obj) -> str:
        return str(obj)


class TeamOut(Schema):
    id: int
    name: str
    head_id: int | None


@router.get("/users", response={200: list[UserOut], **ERRORS}, operation_id="users_list")
def list_users(request, active: bool = True):
    return User.objects.filter(is_active=active).order_by("last_name", "first_name", "id")


@router.get("/users/me", response={200: UserOut, **ERRORS}, operation_id="users_me")
def me(request):
    return request.auth


@router.get("/teams", response={200: list[TeamOut], **ERRORS}, operation_id="teams_list")
def list_teams(request):
    return Team.objects.order_by("name")


class UserIn(Schema):
    username: str
    role: str = "manager"
    team_id: int | None = None
    password: str | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""


class UserPatch(Schema):
    role: str | None = None
    team_id: int | None = None
    is_active: bool | None = Field(None, description="false revokes access at once (sessions and tokens)")
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


class TeamIn(Schema):
    name: str
    head_id: int | None = None


class TokenOut(Schema):
    token: str


def _admin_only(request) -> None:
    if role_of(request.auth) != Role.ADMIN:
        raise Forbidden(_("Only administrators manage users and teams"))


@router.post("/users", response={201: UserOut, **ERRORS}, operation_id="users_create")
def create_user(request, payload: UserIn):
    _admin_only(request)
    team = Team.objects.filter(pk=payload.team_id).first() if payload.team_id else None
    if payload.team_id and team is None:
        raise ValidationFailed.single("team_id", _("no such team"))
    user = services.create_user(payload.username, role=payload.role, team=team, password=payload.password,
                                first_name=payload.first_name, last_name=payload.last_name, email=payload.email)
    return Status(201, user)


@router.patch("/users/{int:pk}", response={200: UserOut, **ERRORS}, operation_id="users_update")
def update_user(request, pk: int, payload: UserPatch):
    _admin_only(request)
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise NotFound(_("No such user"))
    return services.update_user(user, payload.dict(exclude_unset=True))


@router.post("/users/{int:pk}/tokens", response={201: TokenOut, **ERRORS}, operation_id="users_token")
def issue_token(request, pk: int):
    """A new API token for yourself (admins: for anyone); shown once."""
    if pk != request.auth.pk:
        _admin_only(request)
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise NotFound(_("No such user"))
    return Status(201, {"token": services.issue_token(user, name="api")})


@router.post("/teams", response={201: TeamOut, **ERRORS}, operation_id="teams_create")
def create_team(request, payload: TeamIn):
    _admin_only(request)
    return Status(201, services.create_team(payload.name, head_id=payload.head_id))


class SavedViewIn(Schema):
    entity: str = Field(..., description="contacts, companies, leads or deals")
    name: str = Field(..., max_length=200)
    query: str = Field("", description="The list's query string, e.g. city=Москва&tag=VIP&no_contact_days=30")


class SavedViewOut(Schema):
    id: int
    entity: str
    name: str
    query: str


@router.get("/views", response={200: list[SavedViewOut], **ERRORS}, operation_id="views_list",
            summary="My saved views of a list")
def list_views(request, entity: str):
    return services.views_for(request.auth, entity)


@router.post("/views", response={201: SavedViewOut, **ERRORS}, operation_id="views_save",
             summary="Save a list's filters under a name (the same name replaces the view)")
def save_view(request, payload: SavedViewIn):
    from django.http import QueryDict

    return Status(201, services.save_view(request.auth, payload.entity, payload.name, QueryDict(payload.query)))


@router.delete("/views/{int:pk}", response={204: None, **ERRORS}, operation_id="views_delete")
def delete_view(request, pk: int):
    services.delete_view(request.auth, pk)
    return Status(204, None)
