from django.urls import path

from opennrm.transnational import admin_views, views, witness_views

urlpatterns = [
    # Node to node (partners; authenticated by signature, not by a session).
    path("trm/v1/messages", views.receive_message, name="trm-receive"),
    path("trm/v1/batch", views.receive_batch, name="trm-receive-batch"),
    path("trm/v1/card", views.card, name="trm-card"),
    path("trm/v1/schemas", views.schema_index, name="trm-schemas"),
    path("trm/v1/schemas/<str:name>/<int:version>", views.schema, name="trm-schema"),
    # The administrator's pages.
    path("transnational/witnessed/", witness_views.witnessed_checkpoints, name="trm-witnessed"),
    path("transnational/messages/", views.message_log, name="trm-messages"),
    path("transnational/messages/<uuid:message_id>/evidence", views.message_evidence,
         name="trm-evidence"),
    path("transnational/messages/<uuid:message_id>/retry", views.message_retry,
         name="trm-retry"),
    path("transnational/partners/", views.partner_list, name="trm-partners"),
    path("transnational/node/", admin_views.node_page, name="trm-node"),
    path("transnational/node/card", admin_views.node_card_download, name="trm-node-card"),
    path("transnational/node/rotate", admin_views.node_rotate, name="trm-node-rotate"),
    path("transnational/node/revoke", admin_views.node_revoke, name="trm-node-revoke"),
    path("transnational/partners/import", admin_views.partner_import_page,
         name="trm-partner-import"),
    path("transnational/partners/<uuid:node_id>/", admin_views.partner_page,
         name="trm-partner"),
    path("transnational/partners/<uuid:node_id>/types", admin_views.partner_types,
         name="trm-partner-types"),
    path("transnational/partners/<uuid:node_id>/status", admin_views.partner_status,
         name="trm-partner-status"),
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
