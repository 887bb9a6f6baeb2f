from django.urls import path

from opennrm.services import views

urlpatterns = [
    path("services/", views.service_directory, name="service-directory"),
    path("services/hsds/", views.service_hsds, name="service-hsds"),
    path("services/hsds/export/", views.service_hsds_export, name="service-hsds-export"),
    path("services/<uuid:service_id>/", views.service_detail, name="service-detail"),
    path("services/<uuid:service_id>/edit/", views.service_edit, name="service-edit"),
    path("services/<uuid:service_id>/capacity/", views.service_capacity,
         name="service-capacity"),
    path("services/<uuid:service_id>/active/", views.service_set_active,
         name="service-set-active"),
    path("providers/", views.provider_list, name="provider-list"),
    path("providers/new/", views.provider_new, name="provider-new"),
    path("providers/<uuid:provider_id>/", views.provider_detail, name="provider-detail"),
    path("providers/<uuid:provider_id>/edit/", views.provider_edit, name="provider-edit"),
    path("providers/<uuid:provider_id>/active/", views.provider_set_active,
         name="provider-set-active"),
    path("providers/<uuid:provider_id>/services/new/", views.service_new, name="service-new"),
]
