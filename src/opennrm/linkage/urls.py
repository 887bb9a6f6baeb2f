from django.urls import path

from opennrm.linkage import views

app_name = "linkage"

urlpatterns = [
    path("", views.review_queue, name="queue"),
    path("policy/", views.policy_update, name="policy"),
    path("runs/new/", views.run_now, name="run-now"),
    path("pairs/<int:pk>/", views.candidate_pair, name="candidate-pair"),
]
