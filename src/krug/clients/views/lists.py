"""Client lists: companies, contacts and leads with filters, saved views and bulk actions."""

from django.urls import path

from krug.web.views import soon

urlpatterns = [
    path("contacts/", soon, name="contacts"),
]
