from django.urls import path

from krug.web.views import soon

app_name = "analytics"
urlpatterns = [
    path("", soon, name="dashboard"),
]
