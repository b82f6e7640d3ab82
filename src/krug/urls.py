from django.urls import include, path

from krug.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("clients/", include("krug.clients.urls")),
    path("deals/", include("krug.sales.urls")),
    path("", include("krug.activities.urls")),
    path("dashboard/", include("krug.analytics.urls")),
    path("settings/", include("krug.administration.urls")),
    path("transfer/", include("krug.transfer.urls")),
    path("", include("krug.web.urls")),
]
