from django.urls import path

from opennrm.regional import views

app_name = "regional"

urlpatterns = [
    path("", views.overview_page, name="overview"),
    path("report.pdf", views.report_pdf, name="report-pdf"),
    path("send/", views.send_page, name="send"),
    path("schedules/", views.schedules_page, name="schedules"),
]
