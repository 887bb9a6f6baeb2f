from django.urls import path

from opennrm.accounts import administration, views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("account/tokens/", administration.api_tokens, name="api-tokens"),
    path("account/tokens/<int:token_id>/revoke/", administration.api_token_revoke,
         name="api-token-revoke"),
    path("manage/users/", administration.user_list, name="manage-users"),
    path("manage/users/new/", administration.user_new, name="manage-user-new"),
    path("manage/users/<int:user_id>/", administration.user_edit, name="manage-user"),
    path("manage/users/<int:user_id>/totp/reset/", administration.user_totp_reset,
         name="manage-user-totp-reset"),
    path("manage/users/<int:user_id>/totp/remove/", administration.user_totp_remove,
         name="manage-user-totp-remove"),
    path("manage/agencies/", administration.agency_list, name="manage-agencies"),
    path("manage/agencies/new/", administration.agency_new, name="manage-agency-new"),
    path("manage/agencies/<slug:code>/", administration.agency_edit, name="manage-agency"),
]
