"""Client lists: companies and contacts with filters, saved views and bulk actions."""

from django.urls import path

from krug.web.views import soon

urlpatterns = [
    path("contacts/", soon, name="contacts"),
    path("companies/", soon, name="companies"),
]
