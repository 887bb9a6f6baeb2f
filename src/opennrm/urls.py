from django.urls import include, path
from django.views.i18n import set_language

from opennrm.api.api import api

urlpatterns = [
    path("", include("opennrm.workspace.urls")),
    path("language/", set_language, name="set-language"),
    path("api/", api.urls),
    path("", include("opennrm.accounts.urls")),
    path("", include("opennrm.audit.urls")),
    path("", include("opennrm.cases.urls")),
    path("", include("opennrm.screening.urls")),
    path("", include("opennrm.services.urls")),
    path("", include("opennrm.referrals.urls")),
    path("", include("opennrm.protection.urls")),
    path("", include("opennrm.casefile.urls")),
    path("", include("opennrm.reminders.urls")),
    path("", include("opennrm.statistics.urls")),
    path("", include("opennrm.transnational.urls")),
    path("justice/", include("opennrm.justice.urls")),
    path("linkage/", include("opennrm.linkage.urls")),
    path("linkage/across-borders/", include("opennrm.linkage.crossborder.urls")),
    path("regional/", include("opennrm.regional.urls")),
]
