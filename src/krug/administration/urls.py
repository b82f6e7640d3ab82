from krug.administration import views

app_name = "administration"
urlpatterns = views.urlpatterns
