"""A small node for the notification tests: an NGO (a caseworker and their supervisor), a
shelter that takes referrals (a caseworker and a supervisor), and a police unit that must
never see any of it. Deadlines are set relative to today, so no clock needs freezing."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.test import Client
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.cases.models import Case
from opennrm.protection.models import ReflectionPeriod, ResidencePermit, SupportPlan
from opennrm.referrals import services as referral_services
from opennrm.referrals.models import Referral
from opennrm.reminders.services import reminder_sweep
from tests.factories import (
    make_agency,
    make_agency_service,
    make_case,
    make_consent,
    make_user,
)


@dataclass
class World:
    caseworker: object
    supervisor: object
    shelter_worker: object
    shelter_supervisor: object
    officer: object
    police_supervisor: object
    service: object

    def case(self, owner=None, **person) -> Case:
        case = make_case(owner or self.caseworker, **person)
        make_consent(owner or self.caseworker, case)
        return case

    def refer(self, case: Case) -> Referral:
        return referral_services.refer_case(case.assigned_to or self.caseworker, case,
                                            self.service, ["gender"], "A bed for a week.")


def build_world() -> World:
    ngo = make_agency("la-strada", "ngo")
    shelter = make_agency("casa-luminii", "ngo")
    police = make_agency("police-chisinau", "law_enforcement")
    return World(
        caseworker=make_user(Role.CASEWORKER, ngo, "caseworker"),
        supervisor=make_user(Role.SUPERVISOR, ngo, "ngo-supervisor"),
        shelter_worker=make_user(Role.CASEWORKER, shelter, "shelter-worker"),
        shelter_supervisor=make_user(Role.SUPERVISOR, shelter, "shelter-supervisor"),
        officer=make_user(Role.CASEWORKER, police, "officer"),
        police_supervisor=make_user(Role.SUPERVISOR, police, "police-supervisor"),
        service=make_agency_service(shelter, "Women's shelter", response_days=3))


def _recorder(case: Case):
    return case.owner_agency.users.filter(role=Role.CASEWORKER).first()


def in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def reflection_period(case: Case, ends_in: int) -> ReflectionPeriod:
    ends_on = in_days(ends_in)
    return ReflectionPeriod.objects.create(
        case=case, starts_on=in_days(-20), ends_on=ends_on, original_ends_on=ends_on,
        decided_on=in_days(-20), recorded_by=_recorder(case))


def residence_permit(case: Case, expires_in: int) -> ResidencePermit:
    return ResidencePermit.objects.create(
        case=case, permit_type="personal_situation", status="granted",
        applied_on=in_days(-300), decided_on=in_days(-280), expires_on=in_days(expires_in),
        recorded_by=_recorder(case))


def support_plan(case: Case, review_in: int) -> SupportPlan:
    return SupportPlan.objects.create(
        case=case, objectives="Safe housing", responsible_agency=case.owner_agency,
        status="active", next_review_on=in_days(review_in), agreed_on=in_days(-60),
        created_by=_recorder(case))


def sweep() -> int:
    return reminder_sweep(timezone.localdate())


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
