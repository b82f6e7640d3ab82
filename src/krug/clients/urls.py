from krug.clients.views import cards, leads, lists

app_name = "clients"
urlpatterns = lists.urlpatterns + leads.urlpatterns + cards.urlpatterns
