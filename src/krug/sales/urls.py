from django.urls import path

from krug.web.views import soon

app_name = "sales"
urlpatterns = [
    path("", soon, name="board"),
    path("list/", soon, name="list"),
    path("new/", soon, name="deal_new"),
    path("<int:pk>/", soon, name="deal"),
]
