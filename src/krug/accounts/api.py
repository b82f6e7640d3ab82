"""Users and teams: everyone reads them (to assign work), administrators change them."""

from __future__ import annotations

from ninja import Router, Schema

from krug.accounts.models import Team, User
from krug.core.api import ERRORS

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
