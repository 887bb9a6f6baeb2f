from django.urls import path

from opennrm.justice import views

CASE = "<int:criminal_case_id>/"

urlpatterns = [
    path("", views.criminal_case_list, name="criminal-case-list"),
    path("new/", views.criminal_case_new, name="criminal-case-new"),
    path(CASE, views.criminal_case_detail, name="criminal-case"),
    path(f"{CASE}stages/new/", views.stage_new, name="criminal-case-stage-new"),
    path(f"{CASE}persons/new/", views.suspect_new, name="suspect-new"),
    path(f"{CASE}persons/<int:pk>/", views.suspect_detail, name="suspect-detail"),
    path(f"{CASE}persons/<int:pk>/identity/", views.suspect_identity, name="suspect-identity"),
    path(f"{CASE}persons/<int:pk>/indictment/", views.suspect_indictment,
         name="suspect-indictment"),
    path(f"{CASE}persons/<int:pk>/outcome/", views.suspect_outcome, name="suspect-outcome"),
    path(f"{CASE}victims/new/", views.victim_link_new, name="victim-link-new"),
    path(f"{CASE}victims/<int:pk>/unlink/", views.victim_unlink, name="victim-unlink"),
    path(f"{CASE}cooperation/new/", views.cooperation_new, name="cooperation-request-new"),
    path(f"{CASE}cooperation/<int:pk>/", views.cooperation_update,
         name="cooperation-request"),
    path(f"{CASE}shares/new/", views.share_new, name="criminal-case-share"),
    path(f"{CASE}shares/<int:pk>/withdraw/", views.share_withdraw,
         name="criminal-case-share-withdraw"),
]
