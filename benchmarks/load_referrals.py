"""Load benchmark data for issue 5 into a node that holds the demo: the demo service
directory, referrals with their history, consents, assistance and notifications, and the
protection deadlines the reminder sweep reads. Run in the node's environment
(DATABASE_URL, OPENNRM_KEYRING), PostgreSQL only:

    .venv/bin/python benchmarks/load_referrals.py --referrals 300000 --today 2026-11-23

Rows are written with COPY, not through the service functions (which would take hours for
300,000 referrals), but each row is what those functions write: states reached through the
allowed transitions, a ReferralEvent per change, the consent a referral rests on (withdrawn
for a referral stopped by its withdrawal), respond_by = sent date + the service's response
days, assistance before a completion, encrypted text encrypted with the node's key ring, and
the notifications `referrals.services._notify` sends. Audit entries are not written.

`--probe-sweep DATE` (instead) prints, as JSON, the open deadlines on DATE by kind and how
long listing them, the sweep (rolled back) and the e-mail step take in-process.
"""

import argparse
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

from harness import encrypter

# A reflection period lasts at least this long (the Convention's minimum, the demo's too).
REFLECTION_DAYS = 30
MIGRATION_OFFICE = "General Inspectorate for Migration"
# The share of each state among the referrals (the open ones are the few thousand in work);
# "stopped" is drawn apart, on referrals alone on their consent.
STATES = {"completed": 0.57, "declined": 0.22, "cancelled": 0.08, "withdrawn": 0.04,
          "accepted": 0.045, "sent": 0.015}
STOPPED_SHARE = 0.03  # of the referrals alone on their consent
OVERRIDE_SHARE = 0.02  # sent by a supervisor without consent, with a reason
OVERDUE_SHARE = 0.25  # of the referrals waiting for an answer
# How often caseworkers ask for each kind of service.
TYPE_WEIGHTS = {"shelter": 3, "psychological": 3, "legal_aid": 2, "material_assistance": 2,
                "medical": 2, "return_reintegration": 1, "education": 1, "employment": 1}
SHARED = (("gender", "age_band", "languages", "needs"),
          ("gender", "age_band", "languages", "exploitation_forms", "needs"),
          ("given_name", "family_name", "birth_date", "phone", "gender", "languages", "needs"))
NEEDS = ("A safe place to stay for two weeks.", "Counselling in Russian, twice a week.",
         "Help with documents and a lawyer for the proceedings.",
         "Medical check-up; the person has not seen a doctor for a year.",
         "Clothes, food and transport money to reach the shelter.")
REASONS = {
    "declined": ("No free place until next month.", "The person is outside our age range.",
                 "We cannot offer the service in the person's language."),
    "cancelled": ("The person found a place with relatives.", "Sent to the wrong service.",
                  "The person moved to another region."),
    "withdrawn": ("The person left the shelter and does not answer the phone.",
                  "The person asked to stop the counselling."),
}
ASSISTANCE = ("Accommodation in the shelter, room 4.", "Counselling session.",
              "Accompanied to the police interview.", "Medical examination; results given.",
              "Food and hygiene kit.", "Enrolled in the course; first week attended.")
OBJECTIVES = ("Safe accommodation until the end of the reflection period; medical check-up; "
              "counselling twice a week.",
              "Stable housing; vocational training in catering; a job with a written contract.",
              "Return to school; family mediation; regular contact with the social worker.")
PERMIT_TYPES = ("personal_situation", "cooperation", "personal_and_cooperation", "other")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the day the data is drawn around (default: today)")
    parser.add_argument("--probe-sweep", type=date.fromisoformat, default=None,
                        metavar="DATE")
    return parser.parse_args()


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("load_referrals.py writes with COPY: PostgreSQL only")


# --- writing -------------------------------------------------------------------------------

def next_id(model) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')
        return cursor.fetchone()[0]


def copy_rows(model, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """COPY `rows` (values in the order of `columns`, model attnames) into `model`'s table,
    then move its id sequence past them. Returns the number of rows."""
    from django.db import connection

    table = model._meta.db_table
    names = ", ".join(f'"{model._meta.get_field(name.removesuffix("_id")).column}"'
                      if name != "id" else '"id"' for name in columns)
    written = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                       f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))')
    return written


# --- the data ------------------------------------------------------------------------------

def at(day: date, rng: random.Random, now: datetime) -> datetime:
    """A moment in working hours on `day`, never later than `now`."""
    moment = datetime(day.year, day.month, day.day, rng.randint(8, 16), rng.randint(0, 59),
                      rng.randint(0, 59), tzinfo=UTC)
    return min(moment, now - timedelta(minutes=rng.randint(1, 120)))


class Loader:
    def __init__(self, seed: int, today: date):
        from opennrm.accounts.models import Role, User
        from opennrm.cases.models import Case
        from opennrm.referrals.services import responsible_users
        from opennrm.services.models import ContactChannel, Service

        self.rng = random.Random(seed)
        self.today = today
        # The data's "now": the end of `today`, or the present moment if that is earlier.
        self.now = min(datetime.now(UTC), datetime(today.year, today.month, today.day, 23, 59,
                                                   tzinfo=UTC))
        users = User.objects.filter(is_active=True, agency__isnull=False)
        self.caseworker = {u.agency_id: u.pk for u in users.filter(role=Role.CASEWORKER)}
        self.supervisor = {u.agency_id: u.pk for u in users.filter(role=Role.SUPERVISOR)}
        self.cases = list(Case.objects.order_by("id").values_list(
            "id", "case_number", "owner_agency_id", "first_contact_on", "registered_at"))
        self.services = list(Service.objects.filter(
            is_active=True, provider__is_active=True, provider__agency__isnull=False,
            contact_channel=ContactChannel.IN_SYSTEM).values_list(
            "id", "provider__agency_id", "response_days", "name", "service_type"))
        self.responsible = {agency: list(responsible_users(agency).values_list("pk", flat=True))
                            for agency in {service[1] for service in self.services}}

    # --- referrals ---------------------------------------------------------------------------

    def draw_referrals(self, wanted: int) -> list[dict]:
        """The referrals, each with its state and dates, grouped later by consent."""
        from opennrm.referrals.models import Referral

        rng = self.rng
        states, weights = zip(*STATES.items(), strict=True)
        service_weights = {}
        # A small demo's own open referrals count too (there are none at the default sizes).
        open_pairs: set[tuple[int, int]] = set(Referral.objects.filter(
            state__in=("sent", "accepted")).values_list("case_id", "service_id"))
        referrals = []
        for _ in range(wanted):
            case_id, number, owner, first_contact, registered = rng.choice(self.cases)
            choices = service_weights.get(owner)
            if choices is None:
                eligible = [s for s in self.services if s[1] != owner]
                choices = service_weights[owner] = (
                    eligible, [TYPE_WEIGHTS.get(s[4], 1) for s in eligible])
            service = rng.choices(*choices)[0]
            state = rng.choices(states, weights)[0]
            # One open referral per case and service (refer_case refuses a second one).
            if state in ("sent", "accepted"):
                if (case_id, service[0]) in open_pairs:
                    state = "declined"
                else:
                    open_pairs.add((case_id, service[0]))
            referrals.append({"case": case_id, "case_number": number, "owner": owner,
                              "first_contact": first_contact,
                              "registered": registered.date(), "registered_at": registered,
                              "service": service,
                              "state": state})
        return referrals

    def dates(self, referral: dict) -> None:
        """sent_at, respond_by, answered_at, ended_at and the path of states."""
        rng, today = self.rng, self.today
        state, registered = referral["state"], referral["registered"]
        days = referral["service"][2]

        def day_between(start: date, end: date) -> date:
            return start + timedelta(days=rng.randint(0, max((end - start).days, 0)))

        if state == "sent":
            age = (rng.randint(days + 1, days + 20) if rng.random() < OVERDUE_SHARE
                   else rng.randint(0, days))
            sent = max(today - timedelta(days=age), registered)
        elif state == "accepted":
            sent = max(today - timedelta(days=rng.randint(3, 120)), registered)
        else:
            sent = day_between(registered, today - timedelta(days=7))
        sent = min(sent, today)
        # Not before the case was registered (the same day, a few hours later at most).
        sent_at = min(max(at(sent, rng, self.now), referral["registered_at"]
                          + timedelta(hours=1)), self.now)
        referral["sent_at"] = sent_at
        referral["respond_by"] = sent + timedelta(days=days)

        def later(moment: datetime, most_days: int) -> datetime:
            step = timedelta(days=rng.randint(0, most_days), hours=rng.randint(1, 6))
            # Never in the future, and always after the change before it.
            return max(min(moment + step, self.now), moment + timedelta(seconds=1))

        answered = later(sent_at, days + 2)
        path = {  # the states after "sent", through the allowed transitions
            "sent": [], "accepted": ["accepted"], "declined": ["declined"],
            "completed": ["accepted", "completed"], "withdrawn": ["accepted", "withdrawn"],
            "cancelled": rng.choice((["cancelled"], ["accepted", "cancelled"])),
            "stopped": rng.choice((["stopped"], ["accepted", "stopped"])),
        }[state]
        times = []
        moment = sent_at
        for step in path:
            moment = answered if not times else later(moment, 120 if step == "completed" else 60)
            times.append(moment)
        referral["path"] = list(zip(path, times, strict=True))
        # _transition: answered when it leaves "sent" other than by a stop; ended when closed.
        first = path[0] if path else None
        referral["answered_at"] = times[0] if first and first != "stopped" else None
        referral["ended_at"] = times[-1] if state not in ("sent", "accepted") else None

    def load(self, wanted: int) -> dict:
        from opennrm.cases.models import Consent
        from opennrm.referrals.models import Assistance, Referral, ReferralEvent
        from opennrm.reminders.models import Notification

        rng = self.rng
        referrals = self.draw_referrals(wanted)
        by_consent: dict[tuple[int, int], list[dict]] = defaultdict(list)
        for referral in referrals:
            by_consent[(referral["case"], referral["service"][1])].append(referral)
        # A referral alone on its consent may be stopped by that consent's withdrawal, or
        # be sent without consent by a supervisor (an audited override).
        for group in by_consent.values():
            if len(group) == 1:
                draw = rng.random()
                if draw < STOPPED_SHARE:
                    group[0]["state"] = "stopped"
                elif draw < STOPPED_SHARE + OVERRIDE_SHARE:
                    group[0]["override"] = True
        for referral in referrals:
            self.dates(referral)

        # Consents: one per case and receiving agency, given before its first referral.
        consent_id = next_id(Consent)
        consents = []
        for (case_id, agency), group in by_consent.items():
            if group[0].get("override"):
                continue
            first_sent = min(r["sent_at"] for r in group)
            given = max(group[0]["first_contact"],
                        first_sent.date() - timedelta(days=rng.randint(0, 3)))
            stopped = next((r for r in group if r["state"] == "stopped"), None)
            owner = group[0]["owner"]
            withdrawn = stopped["ended_at"].date() if stopped else None
            consents.append((consent_id, case_id, "referral", agency, "", given,
                             min(at(given, rng, self.now), first_sent), self.caseworker[owner],
                             withdrawn, self.caseworker[owner] if stopped else None))
            for referral in group:
                referral["consent"] = consent_id
            consent_id += 1
        copy_rows(Consent, ("id", "case_id", "purpose", "recipient_agency_id",
                            "recipient_node", "given_on", "recorded_at", "recorded_by_id",
                            "withdrawn_on", "withdrawal_recorded_by_id"), consents)

        referrals.sort(key=lambda r: r["sent_at"])
        first_id = next_id(Referral)
        for offset, referral in enumerate(referrals):
            referral["id"] = first_id + offset
        needs = encrypter(Referral, "needs", empty="")
        override = encrypter(Referral, "consent_override_reason", empty="")

        def referral_rows() -> Iterator[tuple]:
            for r in referrals:
                owner, agency = r["owner"], r["service"][1]
                by = self.supervisor[owner] if r.get("override") else self.caseworker[owner]
                r["referred_by"] = by
                yield (r["id"], r["case"], r["service"][0], owner, agency, by,
                       r.get("consent"),
                       override("The person is in danger tonight and cannot be reached to "
                                "give consent.") if r.get("override") else "",
                       json.dumps(list(rng.choice(SHARED))), needs(rng.choice(NEEDS)),
                       r["state"], r["sent_at"], r["respond_by"], r["answered_at"],
                       r["ended_at"], False, "")

        copy_rows(Referral, ("id", "case_id", "service_id", "referring_agency_id",
                             "recipient_agency_id", "referred_by_id", "consent_id",
                             "consent_override_reason", "shared_fields", "needs", "state",
                             "sent_at", "respond_by", "answered_at", "ended_at", "external",
                             "outcome"),
                  referral_rows())

        reason = encrypter(ReferralEvent, "reason", empty="")
        senders = {"cancelled"}

        def actor(r: dict, to_state: str) -> tuple[int, int]:
            if to_state == "stopped":  # whoever recorded the consent's withdrawal
                return self.caseworker[r["owner"]], r["owner"]
            if to_state in senders:
                return self.caseworker[r["owner"]], r["owner"]
            agency = r["service"][1]
            return self.caseworker[agency], agency

        def event_rows() -> Iterator[tuple]:
            for r in referrals:
                yield (r["id"], "", "sent", r["referred_by"], r["owner"], r["sent_at"], "")
                from_state = "sent"
                for to_state, moment in r["path"]:
                    who, agency = actor(r, to_state)
                    text = rng.choice(REASONS[to_state]) if to_state in REASONS else ""
                    yield (r["id"], from_state, to_state, who, agency, moment,
                           reason(text) if text else "")
                    from_state = to_state

        events = copy_rows(ReferralEvent, ("referral_id", "from_state", "to_state", "actor_id",
                                           "agency_id", "at", "reason"), event_rows())

        description = encrypter(Assistance, "description", empty="")

        def assistance_rows() -> Iterator[tuple]:
            for r in referrals:
                accepted = next((m for s, m in r["path"] if s == "accepted"), None)
                if accepted is None:
                    continue
                ended = r["ended_at"] or self.now
                count = {"completed": rng.randint(1, 3), "accepted": rng.randint(0, 2)}.get(
                    r["state"], rng.randint(0, 1))
                span = max((ended.date() - accepted.date()).days, 0)
                agency = r["service"][1]
                for _ in range(count):
                    delivered = accepted.date() + timedelta(days=rng.randint(0, span))
                    recorded = min(max(at(delivered, rng, self.now), accepted), ended)
                    yield (r["service"][4], description(rng.choice(ASSISTANCE)), delivered,
                           self.caseworker[agency], agency, recorded, r["id"])

        assistance = copy_rows(Assistance, ("service_type", "description", "delivered_on",
                                            "delivered_by_id", "delivering_agency_id",
                                            "recorded_at", "referral_id"), assistance_rows())
        notifications = copy_rows(Notification, (
            "user_id", "kind", "key", "message", "params", "case_number", "link",
            "created_at", "email_pending", "emailed_at", "read_at"),
            self.notification_rows(referrals))
        return {"referrals": len(referrals), "consents": len(consents), "events": events,
                "assistance": assistance, "notifications": notifications,
                "states": dict(Counter(r["state"] for r in referrals)),
                "overdue": sum(r["state"] == "sent" and r["respond_by"] < self.today
                               for r in referrals)}

    def notification_rows(self, referrals: list[dict]) -> Iterator[tuple]:
        """What `referrals.services._notify` stored for each change of state. Those older
        than a week were read; none was e-mailed (the demo users have no address)."""
        from opennrm.referrals.services import _NOTICES, RECIPIENT

        week_ago = self.now - timedelta(days=7)
        for r in referrals:
            params = json.dumps({"case_number": r["case_number"], "service": r["service"][3]})
            link = f"/referrals/{r['id']}/"
            for state, moment in [("sent", r["sent_at"]), *r["path"]]:
                side, message = _NOTICES[state]
                people = (self.responsible[r["service"][1]] if side == RECIPIENT
                          else [r["referred_by"]])
                read = moment + timedelta(hours=20) if moment < week_ago else None
                for user in people:
                    yield (user, f"referral_{state}", f"referral-{state}:{r['id']}", message,
                           params, r["case_number"], link, moment, False, None, read)

    # --- protection deadlines ------------------------------------------------------------------

    @staticmethod
    def cases_with_protection() -> set[int]:
        from opennrm.protection.models import ReflectionPeriod, ResidencePermit, SupportPlan

        return {case_id for model in (ReflectionPeriod, ResidencePermit, SupportPlan)
                for case_id in model.objects.values_list("case_id", flat=True)}

    def load_protection(self) -> dict:
        """Reflection periods on half the cases, residence permits and support plans on a
        share of those, with the dates the demo draws (`protection.demo`)."""
        from opennrm.protection.models import ReflectionPeriod, ResidencePermit, SupportPlan

        rng, today = self.rng, self.today
        objectives = encrypter(SupportPlan, "objectives", empty="")
        periods, permits, plans = [], [], []
        for case_id, _number, owner, first_contact, _registered in self.cases:
            if rng.random() > 0.5:
                continue
            actor = self.caseworker[owner]
            starts = min(first_contact + timedelta(days=rng.randint(0, 7)), today)
            ends = starts + timedelta(days=REFLECTION_DAYS + rng.choice((0, 0, 0, 15)))
            periods.append((case_id, starts, ends, ends, None, "", owner, "", starts,
                            actor, at(starts, rng, self.now)))
            applied = starts + timedelta(days=20)
            if rng.random() < 0.4 and applied <= today:
                decided = applied + timedelta(days=rng.randint(5, 20))
                status, expires = "applied", None
                if decided > today:
                    decided = None
                elif rng.random() < 0.15:
                    status = "refused"
                else:
                    expires = decided + timedelta(days=rng.choice((180, 365)))
                    # expire_residence_permits marks those past their date.
                    status = "granted" if expires >= today else "expired"
                permits.append((case_id, rng.choice(PERMIT_TYPES), status, applied, decided,
                                None, MIGRATION_OFFICE if decided else "", expires, None,
                                actor, at(applied, rng, self.now),
                                actor if decided else None))
            if rng.random() < 0.7:
                agreed = min(starts + timedelta(days=2), today)
                old = agreed < today - timedelta(days=730)
                if old:  # the plans of people helped long ago are closed
                    status, closed = "closed", min(agreed + timedelta(days=rng.randint(90, 500)),
                                                   today)
                    review = None
                else:
                    status, closed = "active", None
                    # Reviewed every month or two; a few are a week or two late.
                    review = (today - timedelta(days=rng.randint(1, 14)) if rng.random() < 0.05
                              else today + timedelta(days=rng.randint(0, 60)))
                    review = max(review, agreed + timedelta(days=1))
                created = at(agreed, rng, self.now)
                plans.append((case_id, objectives(rng.choice(OBJECTIVES)), owner, status,
                              review, agreed, closed, actor, created, created))
        # A small demo (5,000 cases or fewer) gives some cases protection steps of its own:
        # those cases keep theirs (a case has one support plan). Drawn all the same, so that
        # the other cases get what they would get without them; none at the default sizes.
        taken = self.cases_with_protection()
        periods, permits, plans = ([row for row in rows if row[0] not in taken]
                                   for rows in (periods, permits, plans))
        copy_rows(ReflectionPeriod, (
            "case_id", "starts_on", "ends_on", "original_ends_on", "extended_on",
            "extension_reason", "deciding_agency_id", "deciding_authority", "decided_on",
            "recorded_by_id", "recorded_at"), periods)
        copy_rows(ResidencePermit, (
            "case_id", "permit_type", "status", "applied_on", "decided_on",
            "deciding_agency_id", "deciding_authority", "expires_on", "renews_id",
            "recorded_by_id", "recorded_at", "decision_recorded_by_id"), permits)
        copy_rows(SupportPlan, (
            "case_id", "objectives", "responsible_agency_id", "status", "next_review_on",
            "agreed_on", "closed_on", "created_by_id", "created_at", "updated_at"), plans)
        return {"reflection_periods": len(periods), "residence_permits": len(permits),
                "support_plans": len(plans)}


def probe_sweep(today: date) -> dict:
    """The open deadlines on `today` by kind; how long listing them, the sweep itself
    (rolled back: it changes nothing) and the e-mail step take in-process."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext, override_settings

    from opennrm.reminders.deadlines import open_deadlines
    from opennrm.reminders.services import reminder_sweep, send_pending_emails

    list(open_deadlines(today))  # warm: imports, URL resolver
    began, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries:
        deadlines = list(open_deadlines(today))
    found = {"deadlines": len(deadlines),
             "by_kind": dict(Counter(deadline.kind for deadline in deadlines)),
             "people": sum(len(deadline.responsible) for deadline in deadlines),
             "seconds": time.perf_counter() - began, "cpu_seconds": time.process_time() - cpu,
             "queries": len(queries)}
    with transaction.atomic():
        began, cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            found["sweep_new"] = reminder_sweep(today)
        found["sweep_seconds"] = time.perf_counter() - began
        found["sweep_cpu_seconds"] = time.process_time() - cpu
        found["sweep_queries"] = len(queries)
        transaction.set_rollback(True)
    # Rolled back too, into a mailbox in memory: the JSON on stdout must stay alone there.
    with transaction.atomic(), override_settings(
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        began = time.perf_counter()
        found["emailed"] = send_pending_emails()
        found["email_seconds"] = time.perf_counter() - began
        transaction.set_rollback(True)
    return found


def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    setup()
    setup_seconds = time.perf_counter() - began
    from django.db import transaction
    from django.utils import timezone

    from opennrm.services.demo import create_demo_directory

    if args.probe_sweep:
        json.dump({**probe_sweep(args.probe_sweep), "setup_seconds": setup_seconds},
                  sys.stdout)
        return
    today = args.today or timezone.localdate()
    found = {}
    began = time.perf_counter()
    found["services"] = create_demo_directory(args.seed)
    with transaction.atomic():
        loader = Loader(args.seed, today)
        if not loader.services:
            raise SystemExit("no service of an agency takes referrals in OpenNRM")
        found.update(loader.load(args.referrals))
        found.update(loader.load_protection())
    found["seconds"] = time.perf_counter() - began
    print(json.dumps(found, default=str))


if __name__ == "__main__":
    main()
