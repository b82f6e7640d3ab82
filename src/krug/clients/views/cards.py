"""Client cards (contact, company) with the timeline and quick actions; creating clients; the leads inbox."""

from django.urls import path

from krug.web.views import soon

urlpatterns = [
    path("contacts/new/", soon, name="contact_new"),
    path("contacts/<int:pk>/", soon, name="contact"),
    path("companies/new/", soon, name="company_new"),
    path("companies/<int:pk>/", soon, name="company"),
    path("leads/", soon, name="leads"),
]
