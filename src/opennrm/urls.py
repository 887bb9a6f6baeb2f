from django.urls import include, path

from opennrm.api.api import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("opennrm.accounts.urls")),
    path("", include("opennrm.audit.urls")),
    path("", include("opennrm.cases.urls")),
]
