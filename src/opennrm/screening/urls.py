from django.urls import path

from opennrm.screening import views

urlpatterns = [
    path("cases/<str:case_number>/screenings/new/", views.screening_new, name="screening-new"),
    path("cases/<str:case_number>/screenings/preview/", views.screening_preview,
         name="screening-preview"),
    path("cases/<str:case_number>/screenings/<int:pk>/", views.screening_detail,
         name="screening-detail"),
    path("cases/<str:case_number>/identification/new/", views.identification_new,
         name="identification-new"),
    path("identification/queue/", views.identification_queue, name="identification-queue"),
]
