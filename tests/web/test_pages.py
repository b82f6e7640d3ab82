"""The shell of the UI: signing in (in the user's language), the home page's numbers through the permission
door, signing out, switching the language, and the stylesheet being served."""

import datetime as dt

import pytest
from django.utils import timezone

from krug.sales.models import Stage
from krug.sales.services import move_deal
from tests import factories

PASSWORD = "a-long-pass-2026"


def with_password(user):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def test_login_page_speaks_russian_to_a_russian_browser(client, db):
    r = client.get("/login/", HTTP_ACCEPT_LANGUAGE="ru")
    assert r.status_code == 200
    page = r.content.decode()
    assert '<html lang="ru">' in page
    assert "Вход" in page and "Пароль" in page and "Круг" in page
    assert "Password" not in page


def test_login_page_speaks_english_to_an_english_browser(client, db):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in page
    assert "Sign in" in page and "Password" in page
    assert "Пароль" not in page


def test_a_wrong_password_is_told_next_to_the_form_and_nobody_is_signed_in(client, org):
    with_password(org.manager)
    r = client.post("/login/", {"username": "manager", "password": "not-his-password"}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    page = r.content.decode()
    assert 'role="alert"' in page and "Please enter a correct username and password" in page
    assert 'aria-invalid="true"' in page
    assert 'value="manager"' in page, "the username stays filled in"
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_is_told_in_russian_too(client, org):
    with_password(org.manager)
    r = client.post("/login/", {"username": "manager", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert "Пожалуйста, введите правильные имя пользователя и пароль" in r.content.decode()


def test_anonymous_visitor_is_sent_to_the_login_page(client, db):
    r = client.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/login/?next=/")


def test_manager_signs_in_and_his_home_counts_only_what_he_may_see(client, org):
    with_password(org.manager)
    mine = factories.company(org.manager, name="Вектор")
    factories.contact(org.manager, company_id=mine.pk)
    factories.contact(org.manager, surname="Второй")
    open_deal = factories.deal(org.manager, title="Поставка", company_id=mine.pk)
    won = factories.deal(org.manager, title="Закрытая")
    move_deal(org.manager, won, Stage.objects.get(pipeline=won.pipeline, kind=Stage.Kind.WON).pk)
    factories.task(org.manager, title="Вчерашний звонок", due_at=timezone.now() - dt.timedelta(days=1))
    factories.task(org.manager, title="Отправить КП", deal_id=open_deal.pk)
    # other people's work he must not see
    factories.company(org.outsider, name="Чужая")
    for n in range(3):
        factories.contact(org.outsider, surname=f"Чужой{n}")
    factories.deal(org.outsider, title="Чужая сделка")
    factories.task(org.outsider, title="Чужая задача", due_at=timezone.now() - dt.timedelta(days=2))

    r = client.post("/login/", {"username": "manager", "password": PASSWORD}, follow=True,
                    HTTP_ACCEPT_LANGUAGE="ru")
    assert r.redirect_chain == [("/", 302)]
    stats = r.context["stats"]
    assert {key: stats[key]["count"] for key in stats} == {
        "contacts": 2, "companies": 1, "open_deals": 1, "overdue_tasks": 1}
    page = r.content.decode()
    assert "Иван" in page and "Менеджер" in page
    assert "Отправить КП" in page and "Вчерашний звонок" in page
    assert "Чужая задача" not in page
    assert [t.title for t in r.context["overdue"]] == ["Вчерашний звонок"]
    assert [t.title for t in r.context["tasks"]] == ["Отправить КП"]


def test_head_sees_his_teams_numbers_and_the_admin_sees_everyones(client, org):
    factories.contact(org.manager)
    factories.contact(org.colleague)
    factories.contact(org.outsider)
    factories.task(org.colleague, title="Просрочено", due_at=timezone.now() - dt.timedelta(hours=3))

    client.force_login(org.head)
    stats = client.get("/").context["stats"]
    assert stats["contacts"]["count"] == 2
    assert stats["overdue_tasks"]["count"] == 1, "a head counts the overdue tasks of his team"

    client.force_login(org.admin)
    assert client.get("/").context["stats"]["contacts"]["count"] == 3


def test_home_page_costs_the_same_few_queries_however_many_records(client, org, django_assert_max_num_queries):
    for n in range(5):
        factories.task(org.manager, title=f"Задача {n}", contact_id=factories.contact(org.manager).pk)
    client.force_login(org.manager)
    # the next and the overdue tasks are asked one pending state at a time (activities.services.soonest_due)
    with django_assert_max_num_queries(13):
        assert client.get("/").status_code == 200


def test_counts_stop_at_the_cap_instead_of_counting_millions(org):
    from krug.clients.models import Contact
    from krug.web.ui import capped_count

    for _ in range(3):
        factories.contact(org.manager)
    assert capped_count(Contact.objects.all(), cap=2) == (2, True)
    assert capped_count(Contact.objects.all(), cap=3) == (3, False)


def test_logout_ends_the_session(client, org):
    client.force_login(org.manager)
    assert client.get("/").status_code == 200
    r = client.post("/logout/")
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(("language", "greeting_word"), [("en", "Contacts"), ("ru", "Контакты")])
def test_the_language_switch_is_remembered(client, org, language, greeting_word):
    client.force_login(org.manager)
    r = client.post("/i18n/setlang/", {"language": language, "next": "/"}, HTTP_ACCEPT_LANGUAGE="de")
    assert r.status_code == 302 and r["Location"] == "/"
    assert greeting_word in client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()


def test_the_page_shell_has_navigation_api_docs_and_a_csrf_protected_logout(client, org):
    client.force_login(org.manager)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for item in ("Clients", "Deals", "Tasks", "Calendar", "Dashboard"):
        assert f">{item}</a>" in page
    assert ">Settings</a>" not in page, "settings are the administrator's"
    client.force_login(org.admin)
    assert ">Settings</a>" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.force_login(org.manager)
    assert 'href="/api/v1/docs"' in page
    assert 'action="/logout/" method="post"' in page and "csrfmiddlewaretoken" in page
    assert 'action="/i18n/setlang/"' in page


def test_the_stylesheet_is_served(client, db):
    r = client.get("/static/web/krug.css")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/css")
    assert ":focus-visible" in b"".join(r.streaming_content).decode()
