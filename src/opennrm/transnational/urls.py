from django.urls import path

from opennrm.transnational import views

urlpatterns = [
    # Node to node (partners; authenticated by signature, not by a session).
    path("trm/v1/messages", views.receive_message, name="trm-receive"),
    path("trm/v1/batch", views.receive_batch, name="trm-receive-batch"),
    path("trm/v1/card", views.card, name="trm-card"),
    path("trm/v1/schemas", views.schema_index, name="trm-schemas"),
    path("trm/v1/schemas/<str:name>/<int:version>", views.schema, name="trm-schema"),
    # The administrator's pages.
    path("transnational/messages/", views.message_log, name="trm-messages"),
    path("transnational/messages/<uuid:message_id>/evidence", views.message_evidence,
         name="trm-evidence"),
    path("transnational/messages/<uuid:message_id>/retry", views.message_retry,
         name="trm-retry"),
    path("transnational/partners/", views.partner_list, name="trm-partners"),
    # Transnational referrals (caseworkers, the focal point, the assigned agency).
    path("transnational/referrals/", views.referral_list, name="trm-referrals"),
    path("transnational/referrals/<int:pk>/", views.referral_detail, name="trm-referral"),
    path("transnational/referrals/<int:pk>/decide", views.referral_decide,
         name="trm-referral-decide"),
    path("transnational/referrals/<int:pk>/status", views.referral_status,
         name="trm-referral-status"),
    path("transnational/referrals/<int:pk>/correct", views.referral_correct,
         name="trm-referral-correct"),
    path("cases/<str:case_number>/transnational/offer", views.referral_offer,
         name="trm-offer"),
]
