from krug.transfer import views

app_name = "transfer"
urlpatterns = views.urlpatterns
