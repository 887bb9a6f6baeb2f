from django.urls import path

from opennrm.statistics import views

urlpatterns = [
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics/download/<str:fmt>/", views.statistics_download,
         name="statistics-download"),
    path("statistics/releases/", views.release_list, name="statistics-releases"),
    path("statistics/policy/", views.disclosure_policy, name="statistics-policy"),
    path("statistics/releases/<int:release_id>/", views.release_detail,
         name="statistics-release"),
    path("statistics/releases/<int:release_id>/download/<str:fmt>/", views.release_download,
         name="statistics-release-download"),
]
