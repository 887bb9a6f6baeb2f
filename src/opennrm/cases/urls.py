from django.urls import path

from opennrm.cases import assignment_views, views

urlpatterns = [
    path("cases/", views.case_list, name="case-list"),
    path("cases/new/", views.case_register, name="case-register"),
    path("cases/find/", views.person_search_page, name="person-search"),
    path("cases/assign/", assignment_views.case_bulk_assign, name="case-bulk-assign"),
    path("cases/transfers/", assignment_views.transfer_list, name="case-transfers"),
    path("cases/transfers/<int:pk>/", assignment_views.transfer_answer,
         name="transfer-answer"),
    path("cases/transfers/<int:pk>/record/", assignment_views.former_case_record,
         name="case-former-record"),
    path("cases/<str:case_number>/", views.case_detail, name="case-detail"),
    path("cases/<str:case_number>/identity/", views.case_identity, name="case-identity"),
    path("cases/<str:case_number>/edit/", views.case_edit, name="case-edit"),
    path("cases/<str:case_number>/close/", views.case_close, name="case-close"),
    path("cases/<str:case_number>/reopen/", views.case_reopen, name="case-reopen"),
    path("cases/<str:case_number>/assign/", assignment_views.case_assign, name="case-assign"),
    path("cases/<str:case_number>/transfer/", assignment_views.case_transfer,
         name="case-transfer"),
    path("cases/<str:case_number>/consents/new/", views.consent_new, name="consent-new"),
    path("cases/<str:case_number>/consents/<int:consent_id>/withdraw/",
         views.consent_withdraw, name="consent-withdraw"),
    path("cases/<str:case_number>/same-person/", views.same_person_new, name="same-person-new"),
    path("cases/<str:case_number>/same-person/<int:link_id>/remove/",
         views.same_person_remove, name="same-person-remove"),
]
