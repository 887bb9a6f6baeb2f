from django.urls import path

from opennrm.casefile import views

CASE = "cases/<str:case_number>/"

urlpatterns = [
    path(f"{CASE}file/", views.case_file, name="case-file"),
    path(f"{CASE}journal/new/", views.journal_new, name="journal-new"),
    path(f"{CASE}attachments/new/", views.attachment_new, name="attachment-new"),
    path(f"{CASE}attachments/<int:pk>/download/", views.attachment_download,
         name="attachment-download"),
    path(f"{CASE}summary/", views.case_summary, name="case-summary"),
    path(f"{CASE}viewers/", views.case_viewers, name="case-viewers"),
]
