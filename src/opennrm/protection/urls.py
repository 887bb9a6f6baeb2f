from django.urls import path

from opennrm.protection import views

CASE = "cases/<str:case_number>/"

urlpatterns = [
    path(f"{CASE}reflection-period/new/", views.reflection_period_new,
         name="reflection-period-new"),
    path(f"{CASE}reflection-period/<int:pk>/extend/", views.reflection_period_extend,
         name="reflection-period-extend"),
    path(f"{CASE}residence-permits/new/", views.permit_new, name="permit-new"),
    path(f"{CASE}residence-permits/<int:pk>/decide/", views.permit_decide, name="permit-decide"),
    path(f"{CASE}residence-permits/<int:pk>/renew/", views.permit_renew, name="permit-renew"),
    path(f"{CASE}proceedings/new/", views.proceeding_new, name="proceeding-new"),
    path(f"{CASE}proceedings/<int:pk>/stage/", views.proceeding_stage, name="proceeding-stage"),
    path(f"{CASE}compensation/new/", views.claim_new, name="claim-new"),
    path(f"{CASE}compensation/<int:pk>/outcome/", views.claim_outcome, name="claim-outcome"),
    path(f"{CASE}returns/new/", views.return_new, name="return-new"),
    path(f"{CASE}returns/<int:pk>/returned/", views.return_record, name="return-record"),
    path(f"{CASE}support-plan/", views.support_plan, name="support-plan"),
    path(f"{CASE}support-plan/edit/", views.support_plan_edit, name="support-plan-edit"),
    path(f"{CASE}support-plan/actions/new/", views.support_action_new,
         name="support-action-new"),
    path(f"{CASE}support-plan/actions/<int:pk>/complete/", views.support_action_complete,
         name="support-action-complete"),
    path(f"{CASE}support-plan/reviews/new/", views.support_review_new,
         name="support-review-new"),
]
