from django.urls import path

from opennrm.workspace import views

urlpatterns = [
    path("", views.home, name="home"),
    path("session/keep-alive/", views.keep_alive, name="keep-alive"),
    path("cases/<str:case_number>/timeline/", views.case_timeline, name="case-timeline"),
]
