from django.urls import path

from opennrm.audit import views

urlpatterns = [
    path("audit/", views.audit_trail, name="audit-trail"),
]
