from django.urls import path

from krug.web.views import soon

app_name = "sales"
urlpatterns = [
    path("", soon, name="board"),
]
