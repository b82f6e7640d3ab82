from django.urls import path

from krug.sales import views

app_name = "sales"
urlpatterns = [
    path("", views.board, name="board"),
    path("list/", views.deal_list, name="list"),
    path("new/", views.deal_new, name="deal_new"),
    path("<int:pk>/", views.deal_card, name="deal"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("<int:pk>/items/", views.deal_item_add, name="deal_item_add"),
]
