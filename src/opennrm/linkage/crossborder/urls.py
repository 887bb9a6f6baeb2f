from django.urls import path

from opennrm.linkage.crossborder import views

app_name = "crossborder"

urlpatterns = [
    path("", views.index, name="index"),
    path("agreements/new", views.agreement_new, name="agreement-new"),
    path("agreements/<int:agreement_id>/", views.agreement_detail, name="agreement"),
    path("rounds/new", views.round_new, name="round-new"),
    path("rounds/<uuid:round_id>/", views.round_detail, name="round"),
    path("rounds/<uuid:round_id>/join", views.round_join, name="round-join"),
    path("rounds/<uuid:round_id>/decline", views.round_decline, name="round-decline"),
]
