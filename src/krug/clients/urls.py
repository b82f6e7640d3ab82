from krug.clients.views import cards, leads, lists, merging

app_name = "clients"
urlpatterns = lists.urlpatterns + leads.urlpatterns + merging.urlpatterns + cards.urlpatterns
