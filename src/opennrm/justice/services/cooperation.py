"""International cooperation requests of a criminal case: tracked here, while the requests
themselves travel on the police and judicial channels."""

from django.db import transaction
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.core.validation import TextLimit, clean_text
from opennrm.justice import access
from opennrm.justice.models import CooperationRequest, CriminalCase
from opennrm.justice.services.common import _audit, _code, _date, _locked, _not_before, _raise

# The states that answer a request, which then has the date of its answer.
ANSWERED_STATES = frozenset({"executed", "partly_executed", "refused"})
PENDING = "pending"


def _state(state, answered_on, requested, errors: dict):
    state = _code(state, "cooperation_request_states", "state", errors,
                  required=_("Choose the state of the request."))
    answered = _date(answered_on, "answered_on", errors)
    if state in ANSWERED_STATES and answered is None and "answered_on" not in errors:
        errors["answered_on"] = [_("Give the date of the answer.")]
    if state == PENDING and answered is not None:
        errors.setdefault("answered_on", []).append(
            _("A pending request has no answer yet: leave the date empty."))
    _not_before(answered, requested, "answered_on", errors,
                _("The answer cannot come before the request."))
    return state, answered


def record_cooperation_request(actor: User, criminal_case: CriminalCase, kind: str,
                               direction: str, partner_country: str, requested_on,
                               state: str = PENDING, answered_on=None, note: str = "",
                               channel: str = "") -> CooperationRequest:
    """Record an international cooperation request sent or received in the case."""
    access.ensure_can_record(actor, criminal_case)
    errors: dict = {}
    kind = _code(kind, "cooperation_request_types", "kind", errors,
                 required=_("Choose the kind of request."))
    if direction not in CooperationRequest.Direction.values:
        errors["direction"] = [_("Choose whether the request was sent or received.")]
    country = _code(partner_country, "countries", "partner_country", errors,
                    required=_("Choose the partner country."))
    requested = _date(requested_on, "requested_on", errors,
                      required=_("Give the date of the request."))
    state, answered = _state(state, answered_on, requested, errors)
    note = clean_text(note, "note", errors, limit=TextLimit.REASON)
    _raise(errors)
    with transaction.atomic():
        criminal_case = _locked(criminal_case)
        request = CooperationRequest.objects.create(
            criminal_case=criminal_case, kind=kind, direction=direction,
            partner_country=country, requested_on=requested, state=state,
            answered_on=answered, note=note, recorded_by=actor)
        fields = ["kind", "direction", "partner_country", "requested_on", "state"]
        fields += [name for name, value in (("answered_on", answered), ("note", note)) if value]
        _audit(actor, Action.CREATE, "cooperation_request", criminal_case, fields, channel)
    return request


def update_cooperation_request(actor: User, request: CooperationRequest, state: str,
                               answered_on=None, note: str | None = None,
                               channel: str = "") -> CooperationRequest:
    """Record the state the request reached (and, if given, a new note)."""
    access.ensure_can_record(actor, request.criminal_case)
    errors: dict = {}
    state, answered = _state(state, answered_on, request.requested_on, errors)
    note = None if note is None else clean_text(note, "note", errors, limit=TextLimit.REASON)
    _raise(errors)
    with transaction.atomic():
        _locked(request.criminal_case)
        request = CooperationRequest.objects.select_for_update().get(pk=request.pk)
        values = {"state": state, "answered_on": answered}
        if note is not None:
            values["note"] = note
        changed = [name for name, value in values.items() if getattr(request, name) != value]
        if not changed:
            return request
        for name in changed:
            setattr(request, name, values[name])
        request.save(update_fields=changed)
        _audit(actor, Action.UPDATE, "cooperation_request", request.criminal_case, changed,
               channel)
    return request


def read_cooperation_request(actor: User, criminal_case: CriminalCase, pk,
                             channel: str = "") -> CooperationRequest | None:
    """The request `pk` of the criminal case, recording that its note was shown (None when
    the case has no such request)."""
    access.ensure_visible(actor, criminal_case)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    request = criminal_case.cooperation_requests.filter(pk=pk).first()
    if request is not None:
        _audit(actor, Action.READ, "cooperation_request", criminal_case, ("note",), channel)
    return request
