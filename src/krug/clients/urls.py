from krug.clients.views import cards, lists

app_name = "clients"
urlpatterns = lists.urlpatterns + cards.urlpatterns
