from krug.activities import views

app_name = "activities"
urlpatterns = views.urlpatterns
