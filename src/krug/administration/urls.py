from django.urls import path

from krug.web.views import soon

app_name = "administration"
urlpatterns = [
    path("", soon, name="index"),
]
