from django.urls import path

from krug.web.views import soon

app_name = "activities"
urlpatterns = [
    path("tasks/", soon, name="tasks"),
    path("calendar/", soon, name="calendar"),
]
