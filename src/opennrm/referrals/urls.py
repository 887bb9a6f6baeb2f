from django.urls import path

from opennrm.referrals import views

urlpatterns = [
    path("referrals/", views.referral_inbox, name="referral-inbox"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/assistance/new/", views.assistance_new, name="assistance-new"),
    path("referrals/<int:pk>/outcome/", views.referral_outcome, name="referral-outcome"),
    path("referrals/<int:pk>/letter/", views.referral_letter, name="referral-letter"),
    path("referrals/<int:pk>/<slug:action>/", views.referral_change, name="referral-change"),
    path("cases/<str:case_number>/referrals/new/", views.referral_new, name="referral-new"),
]
