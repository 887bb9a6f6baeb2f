"""The one write path of linkage across nodes: agreements, rounds (open, join, decline,
encode and send, link at the host, apply the groups), and the reads the pages and regional
statistics need.

A round, from the host's side: `open_round` invites each partner (`linkage_round_opened`);
each party encodes its persons and sends the encodings in chunks (`linkage_encodings`); when
every party's chunks are in, the host links them (`link_round`) and sends each party, for
its own record tokens only, the group id and the countries of the other parties in the group
(`linkage_groups`). Each node then marks its persons "also known in country X". Encoding and
linking take seconds to minutes: they run after the commit in a thread of the process (and a
sweep takes up what a process that died left), never inside a request or a received message's
transaction.

The secret of an agreement never leaves the node: each round's encoding key is derived from
it and the round id (HKDF), so encodings of two rounds cannot be compared with each other.
"""

import hashlib
import hmac
import json
import logging
import secrets
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import uuid_utils.compat as uuid_compat
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc.jwe import JWERegistry

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.cases.models import Person
from opennrm.linkage.crossborder.access import (
    ensure_can_manage_agreements,
    ensure_can_run_rounds,
)
from opennrm.linkage.crossborder.models import (
    GroupMember,
    LinkageAgreement,
    LinkageRound,
    PresenceAbroad,
    ReceivedChunk,
    RoundParty,
    RoundRecord,
    RoundState,
)
from opennrm.linkage.identities import linkage_record
from opennrm.transnational import services as channel
from opennrm.transnational.identity import this_node
from opennrm.transnational.models import Partner

log = logging.getLogger(__name__)

MESSAGE_TYPES = ("linkage_round_opened", "linkage_round_declined", "linkage_encodings",
                 "linkage_groups", "linkage_round_closed")
SHORTEST_SECRET = 20
FINGERPRINT_LABEL = b"opennrm linkage agreement fingerprint v1"
ENCODING_KEY_LABEL = b"opennrm linkage round encoding key v1"
DEFAULT_DEADLINE_DAYS = 7
# Work handed to a thread that has not finished after this long is taken up by the sweep.
STUCK_AFTER = timedelta(minutes=15)


class LinkageError(ValidationError):
    pass


def _channel(actor) -> str:
    return "trm" if actor is None else "web"


# --- the agreement's secret -------------------------------------------------------------------

def secret_fingerprint(secret: str) -> str:
    """A keyed hash of the secret both sides compute and compare by telephone: equal
    fingerprints, same secret. It reveals nothing of the secret (HMAC with the secret as the
    key), and is not the key the encodings use."""
    return hmac.new(secret.encode("utf-8"), FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]


def format_fingerprint(fingerprint: str) -> str:
    return " ".join(fingerprint[i:i + 4].upper() for i in range(0, len(fingerprint), 4))


def round_key(secret: str, round_id: uuid.UUID) -> bytes:
    """The encoding key of one round: the same on every party's node (same secret, same
    round), another in every round."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=uuid.UUID(str(round_id)).bytes,
                info=ENCODING_KEY_LABEL).derive(secret.encode("utf-8"))


def _check_secret(secret: str, confirm: str | None, errors: dict) -> str:
    secret = (secret or "").strip()
    if len(secret) < SHORTEST_SECRET:
        errors["secret"] = [_("The secret must have at least %(count)d characters (agree a "
                              "long random phrase with the partners).") % {
            "count": SHORTEST_SECRET}]
    elif confirm is not None and secret != (confirm or "").strip():
        errors["confirm_secret"] = [_("The two secrets differ.")]
    return secret


def create_agreement(actor, name: str, partners: Iterable[Partner], secret: str,
                     confirm_secret: str | None = None,
                     parameters: dict | None = None) -> LinkageAgreement:
    """Record a linkage agreement made out of band: its name (the same on every partner's
    node), the partners, the encoding parameters, and the secret (encrypted at rest, never
    shown again: only its fingerprint)."""
    from opennrm.linkage import pprl

    ensure_can_manage_agreements(actor)
    errors: dict = {}
    name = (name or "").strip()
    partners = list(partners)
    if not name:
        errors["name"] = [_("Give the agreement the name the partners use for it.")]
    elif LinkageAgreement.objects.filter(name=name).exists():
        errors["name"] = [_("An agreement with this name exists already.")]
    if not partners:
        errors["partners"] = [_("Choose at least one partner node.")]
    secret = _check_secret(secret, confirm_secret, errors)
    if parameters is None:
        parameters = pprl.DEFAULT_PARAMETERS.as_dict()
    else:
        try:
            parameters = pprl.EncodingParameters.from_dict(parameters).as_dict()
        except (pprl.PPRLError, TypeError, ValueError, KeyError) as error:
            errors["parameters"] = [str(error)]
    if errors:
        raise LinkageError(errors)
    now = timezone.now()
    with transaction.atomic():
        agreement = LinkageAgreement.objects.create(
            name=name, parameters=parameters, secret=secret,
            fingerprint=secret_fingerprint(secret), created_by=actor, created_at=now,
            secret_set_at=now)
        agreement.partners.set(partners)
        record_event(actor, AuditEvent(
            Action.CREATE, "linkage_agreement", name, ("partners", "secret"),
            "partners " + ", ".join(sorted(p.country for p in partners))),
            channel=_channel(actor))
    return agreement


def replace_secret(actor, agreement: LinkageAgreement, secret: str,
                   confirm_secret: str | None = None) -> LinkageAgreement:
    """A new secret for the agreement (the partners agreed a new one): rounds opened from now
    on use it."""
    ensure_can_manage_agreements(actor)
    errors: dict = {}
    secret = _check_secret(secret, confirm_secret, errors)
    if errors:
        raise LinkageError(errors)
    with transaction.atomic():
        agreement.secret = secret
        agreement.fingerprint = secret_fingerprint(secret)
        agreement.secret_set_at = timezone.now()
        agreement.save(update_fields=["secret", "fingerprint", "secret_set_at"])
        record_event(actor, AuditEvent(Action.UPDATE, "linkage_agreement", agreement.name,
                                       ("secret",), "secret replaced"), channel=_channel(actor))
    return agreement


# --- background work ----------------------------------------------------------------------------

def _in_background() -> bool:
    return getattr(settings, "OPENNRM_CROSS_BORDER_BACKGROUND", True)


def _soon(work: Callable[[int], object], round_pk: int, background: bool = True) -> None:
    """Run `work(round_pk)` after the commit: in a thread of this process (a request or a
    received message must not wait for it), or at once in the caller's process (the CLI)."""
    threaded = background and _in_background()

    def run():
        try:
            work(round_pk)
        except Exception:
            if not threaded:
                raise  # the command or test that asked for it says so
            # In a server's thread: logged, and the sweep takes the round up again.
            log.exception("linkage round %s: %s failed", round_pk, work.__name__)
        finally:
            if threaded:
                connection.close()

    if threaded:
        transaction.on_commit(lambda: threading.Thread(
            target=run, name=f"linkage-{work.__name__}-{round_pk}", daemon=True).start())
    else:
        transaction.on_commit(run)


# --- opening a round (the host) ----------------------------------------------------------------

def _parties_key(node_ids: Iterable) -> str:
    return ",".join(sorted(str(uuid.UUID(str(node_id))) for node_id in node_ids))


def open_round(actor, agreement: LinkageAgreement, partners: Iterable[Partner],
               deadline: datetime | None = None, host_takes_part: bool = True,
               background: bool = True) -> LinkageRound:
    """Start a round under `agreement` with the chosen partners (all of the agreement's when
    none is chosen): each is invited; this node encodes its own persons too unless it only
    hosts (a regional hub)."""
    ensure_can_run_rounds(actor)
    partners = list(partners) or list(agreement.partners.all())
    errors: dict = {}
    allowed = set(agreement.partners.values_list("pk", flat=True))
    if any(partner.pk not in allowed for partner in partners):
        errors["partners"] = [_("Choose partners of this agreement.")]
    inactive = [p.country for p in partners if p.status != Partner.Status.ACTIVE]
    if inactive:
        errors["partners"] = [_("Exchange is suspended with %(countries)s.") % {
            "countries": ", ".join(inactive)}]
    not_allowed = sorted({p.country for p in partners for message_type in MESSAGE_TYPES
                          if message_type not in p.allowed_types})
    if not_allowed:
        errors["partners"] = [_("The linkage message types are not allowed with %(countries)s "
                                "(the administrator allows them on the partner's page).") % {
            "countries": ", ".join(not_allowed)}]
    if len(partners) + (1 if host_takes_part else 0) < 2:
        errors["partners"] = [_("A round needs at least two parties.")]
    now = timezone.now()
    deadline = deadline or now + timedelta(days=DEFAULT_DEADLINE_DAYS)
    if deadline <= now:
        errors["deadline"] = [_("The deadline must be in the future.")]
    if errors:
        raise LinkageError(errors)
    node = this_node()
    parties = [(partner.node_id, partner.country, partner) for partner in partners]
    if host_takes_part:
        parties.append((node.node_id, node.country, None))
    round_id = uuid.UUID(str(uuid_compat.uuid7()))
    with transaction.atomic():
        linkage_round = LinkageRound.objects.create(
            round_id=round_id, role=LinkageRound.Role.HOST, agreement=agreement,
            agreement_name=agreement.name, parameters=agreement.parameters, deadline=deadline,
            state=RoundState.OPEN, parties_key=_parties_key(p[0] for p in parties),
            opened_by=actor, opened_at=now)
        RoundParty.objects.bulk_create([
            RoundParty(round=linkage_round, node_id=node_id, country=country, partner=partner,
                       state=RoundParty.State.INVITED if partner else RoundParty.State.RECEIVING)
            for node_id, country, partner in parties])
        invitation = {
            "round_id": str(round_id), "agreement": agreement.name,
            "fingerprint": agreement.fingerprint, "parameters": agreement.parameters,
            "deadline": deadline.isoformat(),
            "parties": [{"node_id": str(node_id), "country": country}
                        for node_id, country, _ in parties]}
        for partner in partners:
            channel.send_message(actor, partner, "linkage_round_opened", invitation,
                                 ttl=deadline - now)
        record_event(actor, AuditEvent(
            Action.CREATE, "linkage_round", str(round_id), (),
            f"agreement {agreement.name}; parties "
            f"{', '.join(sorted(country for _, country, _ in parties))}"),
            channel=_channel(actor))
        if host_takes_part:
            linkage_round.started_at = now
            linkage_round.save(update_fields=["started_at"])
            _soon(encode_and_send, linkage_round.pk, background)
    return linkage_round


# --- taking part (a participant) -------------------------------------------------------------

def join_round(actor, linkage_round: LinkageRound, background: bool = True) -> LinkageRound:
    """The coordinator takes part in a round it was invited to: its persons are encoded and
    the encodings sent to the host."""
    ensure_can_run_rounds(actor)
    if linkage_round.is_host or linkage_round.state != RoundState.INVITED:
        raise LinkageError({"state": [_("Only a round this node was invited to and has not "
                                        "answered can be joined.")]})
    if linkage_round.deadline <= timezone.now():
        raise LinkageError({"state": [_("The round's deadline has passed.")]})
    with transaction.atomic():
        _start_encoding(linkage_round, background)
        record_event(actor, AuditEvent(Action.UPDATE, "linkage_round",
                                       str(linkage_round.round_id), ("state",), "joined"),
                     channel=_channel(actor))
    return linkage_round


def _start_encoding(linkage_round: LinkageRound, background: bool = True) -> None:
    linkage_round.state = RoundState.ENCODING
    linkage_round.started_at = timezone.now()
    linkage_round.save(update_fields=["state", "started_at"])
    _soon(encode_and_send, linkage_round.pk, background)


def decline_round(actor, linkage_round: LinkageRound, reason: str) -> LinkageRound:
    """The coordinator does not take part: the host is told why."""
    ensure_can_run_rounds(actor)
    reason = (reason or "").strip()[:2000]
    if linkage_round.is_host or linkage_round.state != RoundState.INVITED:
        raise LinkageError({"state": [_("Only a round this node was invited to and has not "
                                        "answered can be declined.")]})
    if not reason:
        raise LinkageError({"reason": [_("Give the reason for declining.")]})
    with transaction.atomic():
        _decline(actor, linkage_round, reason)
    return linkage_round


def _decline(actor, linkage_round: LinkageRound, reason: str) -> None:
    linkage_round.state = RoundState.DECLINED
    linkage_round.reason = reason
    linkage_round.save(update_fields=["state", "reason"])
    channel.send_message(actor, linkage_round.host, "linkage_round_declined",
                         {"round_id": str(linkage_round.round_id), "reason": reason})
    record_event(actor, AuditEvent(Action.UPDATE, "linkage_round", str(linkage_round.round_id),
                                   ("state",), f"declined: {reason}"), channel=_channel(actor))


def person_records() -> tuple[list[dict], dict[str, int]]:
    """Every person of the node as a record to encode, under a fresh random token, decrypted
    in memory only; and which person each token stands for. The record is the node's
    linkage record (`linkage.identities.linkage_record`, one mapping of a person's fields
    for both linkages), of the identity fields the encodings read only."""
    records, persons = [], {}
    fields = ("given_name", "family_name", "birth_date", "birth_year", "gender",
              "citizenships")
    rows = Person.objects.only("pk", *fields).order_by("pk")
    for person in rows.iterator(chunk_size=2000):
        token = secrets.token_urlsafe(16)
        persons[token] = person.pk
        records.append(linkage_record(token, {name: getattr(person, name)
                                              for name in fields}))
    return records, persons


def message_budget() -> int:
    """The most bytes of payload one message may carry: the sealed message (the payload's
    JSON signed, then encrypted, each base64url-encoded: 16/9 of it) must stay under the
    channel's size limit, with room for the claims and headers. joserfc decrypts no JWE
    whose ciphertext is longer than its registry's limit (64 KiB by default), whatever the
    channel's limit: the smaller of the two holds."""
    limit = min(settings.OPENNRM_TRM_MAX_MESSAGE_BYTES, JWERegistry.max_ciphertext_length)
    return int(limit * 9 / 16) - 4096


def payload_size(value) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def encoding_chunks(encodings, budget: int | None = None) -> list:
    """`encodings` split into chunks whose payloads fit in one message each."""
    budget = budget or message_budget()
    total = len(encodings.record_ids)
    if total == 0 or payload_size(encodings.to_payload()) <= budget:
        return [encodings]
    sample = encodings.chunks(min(total, 200))[0]
    per_record = payload_size(sample.to_payload()) / len(sample.record_ids)
    size = max(1, int(budget * 0.9 / per_record))
    chunks = []
    for chunk in encodings.chunks(size):
        if payload_size(chunk.to_payload()) > budget and len(chunk.record_ids) > 1:
            chunks.extend(encoding_chunks(chunk, budget))
        else:
            chunks.append(chunk)
    return chunks


def group_chunks(groups: list[dict], budget: int | None = None) -> list[list[dict]]:
    """Group entries split into lists whose payloads fit in one message each (one empty list
    when there is none: the party still learns the round is linked)."""
    budget = budget or message_budget()
    chunks, current, size = [], [], 0
    for entry in groups:
        entry_size = payload_size(entry) + 1
        if current and size + entry_size > budget:
            chunks.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_size
    chunks.append(current)
    return chunks


def encode_and_send(round_pk: int) -> None:
    """Encode this node's persons for the round and send the encodings to the host (or keep
    them, at the host). Nothing is sent or kept if the round was answered meanwhile."""
    from opennrm.linkage import pprl

    linkage_round = LinkageRound.objects.select_related("agreement", "host").get(pk=round_pk)
    if linkage_round.state not in (RoundState.ENCODING, RoundState.OPEN):
        return
    records, persons = person_records()
    key = round_key(linkage_round.agreement.secret, linkage_round.round_id)
    parameters = pprl.EncodingParameters.from_dict(linkage_round.parameters)
    encodings, unreadable = pprl.encode(records, key, parameters)
    del records
    chunks = encoding_chunks(encodings)
    node = this_node()
    now = timezone.now()
    with transaction.atomic():
        linkage_round = (LinkageRound.objects.select_for_update(of=("self",))
                         .select_related("host").get(pk=round_pk))
        if linkage_round.state not in (RoundState.ENCODING, RoundState.OPEN):
            return
        if linkage_round.is_host:
            own = linkage_round.parties.filter(node_id=node.node_id).first()
            if own is None or own.state == RoundParty.State.COMPLETE:
                return
        RoundRecord.objects.filter(round=linkage_round).delete()
        RoundRecord.objects.bulk_create(
            [RoundRecord(round=linkage_round, token=token, person_id=persons[token])
             for token in encodings.record_ids], batch_size=2000)
        count = len(chunks)
        if linkage_round.is_host:
            ReceivedChunk.objects.bulk_create([
                ReceivedChunk(round=linkage_round, node_id=node.node_id,
                              kind=ReceivedChunk.Kind.ENCODINGS, index=index, count=count,
                              content=chunk.to_payload(), received_at=now)
                for index, chunk in enumerate(chunks, 1)])
            own.state = RoundParty.State.COMPLETE
            own.chunks_expected = own.chunks_received = count
            own.records = len(encodings.record_ids)
            own.save(update_fields=["state", "chunks_expected", "chunks_received", "records"])
        else:
            for index, chunk in enumerate(chunks, 1):
                channel.send_message(None, linkage_round.host, "linkage_encodings", {
                    "round_id": str(linkage_round.round_id), "chunk": index, "chunks": count,
                    "encodings": chunk.to_payload()},
                    ttl=max(linkage_round.deadline - now, timedelta(hours=1)))
            linkage_round.state = RoundState.SENT
        linkage_round.records_sent = len(encodings.record_ids)
        linkage_round.records_unreadable = len(unreadable)
        linkage_round.save(update_fields=["state", "records_sent", "records_unreadable"])
        destination = ("kept at this node, the host" if linkage_round.is_host
                       else f"sent to {linkage_round.host.country} node "
                            f"{linkage_round.host.node_id}")
        record_event(None, AuditEvent(
            Action.EXPORT, "linkage_round", str(linkage_round.round_id), (
                "given_name", "family_name", "birth_date", "gender", "citizenships"),
            f"{len(encodings.record_ids)} persons encoded ({len(unreadable)} unreadable) in "
            f"{count} chunks, {destination}"), channel="trm")
        if linkage_round.is_host:
            maybe_link(linkage_round)


# --- at the host: collecting and linking ---------------------------------------------------

def store_chunk(linkage_round: LinkageRound, node_id, kind: str, index: int, count: int,
                content) -> bool:
    """Keep one chunk (a second copy of the same chunk is dropped); True when every chunk of
    that sender and kind is in."""
    if index > count:
        raise LinkageError({"chunk": [f"chunk {index} of {count}"]})
    earlier = ReceivedChunk.objects.filter(round=linkage_round, node_id=node_id, kind=kind)
    counts = set(earlier.values_list("count", flat=True))
    if counts and counts != {count}:
        raise LinkageError({"chunks": [f"chunk {index} says {count} chunks, earlier ones "
                                       f"{', '.join(map(str, sorted(counts)))}"]})
    ReceivedChunk.objects.get_or_create(
        round=linkage_round, node_id=node_id, kind=kind, index=index,
        defaults={"count": count, "content": content, "received_at": timezone.now()})
    return earlier.count() == count


def assembled(linkage_round: LinkageRound, node_id, kind: str) -> list:
    """The contents of a sender's chunks, in chunk order."""
    return [chunk.content for chunk in ReceivedChunk.objects.filter(
        round=linkage_round, node_id=node_id, kind=kind).order_by("index")]


def maybe_link(linkage_round: LinkageRound, background: bool = True) -> None:
    """When every party that did not decline has sent all its chunks: link (two parties at
    least), or close the round (fewer)."""
    if linkage_round.state != RoundState.OPEN:
        return
    parties = list(linkage_round.parties.all())
    taking_part = [p for p in parties if p.state != RoundParty.State.DECLINED]
    if any(p.state != RoundParty.State.COMPLETE for p in taking_part):
        return
    if len(taking_part) < 2:
        close_round(linkage_round, RoundState.EXPIRED,
                    "fewer than two parties took part in the round")
        return
    linkage_round.state = RoundState.LINKING
    linkage_round.started_at = timezone.now()
    linkage_round.save(update_fields=["state", "started_at"])
    _soon(link_round, linkage_round.pk, background)


def _group_ids(result, party: str) -> dict[str, str]:
    """{record token: group id} of one party in a LinkResult (every record, alone or not)."""
    return result.groups[party]


def link_round(round_pk: int) -> None:
    """Link every party's encodings; store the groups; send each party its own tokens' groups
    with the countries of the other parties in each; mark this node's own persons."""
    from opennrm.linkage import pprl

    linkage_round = LinkageRound.objects.get(pk=round_pk)
    if linkage_round.state != RoundState.LINKING:
        return
    parties = {str(p.node_id): p for p in linkage_round.parties.filter(
        state=RoundParty.State.COMPLETE).select_related("partner")}
    encodings = {node_id: pprl.Encodings.join([
        pprl.Encodings.from_payload(content)
        for content in assembled(linkage_round, node_id, ReceivedChunk.Kind.ENCODINGS)])
        for node_id in parties}
    result = pprl.link_encodings(
        encodings, parameters=pprl.EncodingParameters.from_dict(linkage_round.parameters))
    every = {node_id: _group_ids(result, node_id) for node_id in parties}
    members: dict[str, set[str]] = defaultdict(set)
    for node_id, tokens in every.items():
        for group in tokens.values():
            members[group].add(node_id)
    # A record alone in its group was found nowhere else: nothing of it goes back.
    members = {group: nodes for group, nodes in members.items() if len(nodes) > 1}
    groups = {node_id: {token: group for token, group in tokens.items() if group in members}
              for node_id, tokens in every.items()}
    del every
    node = this_node()
    now = timezone.now()
    with transaction.atomic():
        linkage_round = LinkageRound.objects.select_for_update().get(pk=round_pk)
        if linkage_round.state != RoundState.LINKING:
            return
        own_persons = dict(RoundRecord.objects.filter(round=linkage_round).values_list(
            "token", "person_id"))
        GroupMember.objects.bulk_create([
            GroupMember(round=linkage_round, group_id=group, node_id=node_id,
                        country=parties[node_id].country, token=token,
                        person_id=own_persons.get(token) if node_id == str(node.node_id)
                        else None)
            for node_id, tokens in groups.items() for token, group in tokens.items()],
            batch_size=2000)
        for node_id, tokens in groups.items():
            entries = [{"record": token, "group": group, "countries": sorted(
                parties[other].country for other in members[group] if other != node_id)}
                for token, group in sorted(tokens.items())]
            party = parties[node_id]
            if party.partner is None:
                _apply_groups(linkage_round, entries)
                continue
            chunks = group_chunks(entries)
            for index, chunk in enumerate(chunks, 1):
                channel.send_message(None, party.partner, "linkage_groups", {
                    "round_id": str(linkage_round.round_id), "chunk": index,
                    "chunks": len(chunks), "groups": chunk})
        linkage_round.state = RoundState.LINKED
        linkage_round.linked_at = now
        linkage_round.save(update_fields=["state", "linked_at"])
        ReceivedChunk.objects.filter(round=linkage_round).delete()
        RoundRecord.objects.filter(round=linkage_round).delete()
        linked = Counter(len(nodes) for nodes in members.values())
        record_event(None, AuditEvent(
            Action.UPDATE, "linkage_round", str(linkage_round.round_id), ("state",),
            f"linked {sum(len(e.record_ids) for e in encodings.values())} "
            f"records of {len(parties)} parties: {len(members)} groups across countries "
            f"({', '.join(f'{n} in {size} countries' for size, n in sorted(linked.items()))})"),
            channel="trm")


# --- the groups, at each party -----------------------------------------------------------------

def _apply_groups(linkage_round: LinkageRound, entries: list[dict]) -> int:
    """Mark this node's persons "also known in" the countries of their groups, replacing the
    marks of earlier rounds with the same parties; returns the persons marked."""
    node = this_node()
    persons = dict(RoundRecord.objects.filter(round=linkage_round).values_list(
        "token", "person_id"))
    marks, members = [], []
    for entry in entries:
        person_id = persons.get(entry["record"])
        if person_id is None:
            continue  # not a token of this round's: nothing to mark
        if not linkage_round.is_host:
            members.append(GroupMember(round=linkage_round, group_id=entry["group"],
                                       node_id=node.node_id, country=node.country,
                                       token=entry["record"], person_id=person_id))
        marks.extend(PresenceAbroad(person_id=person_id, country=country, round=linkage_round,
                                    group_id=entry["group"])
                     for country in entry["countries"] if country != node.country)
    PresenceAbroad.objects.filter(round__parties_key=linkage_round.parties_key).exclude(
        round=linkage_round).delete()
    GroupMember.objects.bulk_create(members, batch_size=2000, ignore_conflicts=True)
    PresenceAbroad.objects.bulk_create(marks, batch_size=2000, ignore_conflicts=True)
    by_country = Counter(mark.country for mark in marks)
    record_event(None, AuditEvent(
        Action.UPDATE, "linkage_round", str(linkage_round.round_id), ("presence_abroad",),
        f"group result applied: {len({m.person_id for m in marks})} persons also known "
        f"abroad ({', '.join(f'{c} {n}' for c, n in sorted(by_country.items())) or 'none'})"),
        channel="trm")
    return len({mark.person_id for mark in marks})


def apply_groups_when_complete(linkage_round: LinkageRound) -> bool:
    """At a participant, once every chunk of the round's result is in: apply it."""
    if linkage_round.state not in (RoundState.SENT, RoundState.ENCODING):
        return False
    entries = [entry for content in assembled(linkage_round, linkage_round.host.node_id,
                                              ReceivedChunk.Kind.GROUPS)
               for entry in content]
    _apply_groups(linkage_round, entries)
    linkage_round.state = RoundState.LINKED
    linkage_round.linked_at = timezone.now()
    linkage_round.save(update_fields=["state", "linked_at"])
    ReceivedChunk.objects.filter(round=linkage_round).delete()
    RoundRecord.objects.filter(round=linkage_round).delete()
    return True


# --- closing ------------------------------------------------------------------------------------

def close_round(linkage_round: LinkageRound, state: str, reason: str) -> None:
    """End a round without a result; at the host, the parties still in it are told."""
    linkage_round.state = state
    linkage_round.reason = reason
    linkage_round.save(update_fields=["state", "reason"])
    if linkage_round.is_host:
        for party in linkage_round.parties.exclude(state=RoundParty.State.DECLINED).exclude(
                partner=None).select_related("partner"):
            if party.partner.status == Partner.Status.ACTIVE:
                channel.send_message(None, party.partner, "linkage_round_closed", {
                    "round_id": str(linkage_round.round_id), "reason": reason})
    ReceivedChunk.objects.filter(round=linkage_round).delete()
    RoundRecord.objects.filter(round=linkage_round).delete()
    record_event(None, AuditEvent(Action.UPDATE, "linkage_round", str(linkage_round.round_id),
                                  ("state",), f"{state}: {reason}"), channel="trm")


def sweep_rounds(now: datetime | None = None) -> int:
    """Close the rounds whose deadline passed, and take up work a process that died left
    (encoding or linking that never ended). Registered as a step of the reminders sweep."""
    now = now or timezone.now()
    done = 0
    for linkage_round in LinkageRound.objects.filter(
            deadline__lt=now, state__in=[RoundState.OPEN, RoundState.INVITED]):
        with transaction.atomic():
            close_round(linkage_round, RoundState.EXPIRED, "the deadline passed")
        done += 1
    stuck = LinkageRound.objects.filter(started_at__lt=now - STUCK_AFTER)
    for linkage_round in stuck.filter(state=RoundState.ENCODING):
        encode_and_send(linkage_round.pk)
        done += 1
    for linkage_round in stuck.filter(state=RoundState.OPEN, role=LinkageRound.Role.HOST,
                                      parties__partner=None,
                                      parties__state=RoundParty.State.RECEIVING).distinct():
        encode_and_send(linkage_round.pk)
        done += 1
    for linkage_round in stuck.filter(state=RoundState.LINKING):
        link_round(linkage_round.pk)
        done += 1
    return done


# --- reads --------------------------------------------------------------------------------------

def groups_for_round(linkage_round: LinkageRound) -> dict[str, list[str]]:
    """{group id: the countries of its records} of a linked round: at the host every group
    found across parties, at a participant the groups of its own persons (for regional
    statistics: persons counted once across countries)."""
    groups: dict[str, set[str]] = defaultdict(set)
    for group, country in GroupMember.objects.filter(round=linkage_round).values_list(
            "group_id", "country"):
        groups[group].add(country)
    if not linkage_round.is_host:
        for group, country in PresenceAbroad.objects.filter(round=linkage_round).values_list(
                "group_id", "country"):
            groups[group].add(country)
    return {group: sorted(countries) for group, countries in groups.items()}


def presence_counts(linkage_round: LinkageRound) -> list[tuple[str, int]]:
    """(country, persons of this node also known there) of a round: counts only."""
    return list(PresenceAbroad.objects.filter(round=linkage_round).values_list("country")
                .annotate(persons=Count("person_id", distinct=True)).order_by("country"))


def presence_of(person) -> list[PresenceAbroad]:
    """The countries where a person is also known, from the newest round of each set of
    parties."""
    return list(PresenceAbroad.objects.filter(person=person).select_related("round")
                .order_by("country", "-round__linked_at"))


def waiting_for(linkage_round: LinkageRound) -> list[str]:
    """The countries a host's open round still waits for."""
    return sorted(linkage_round.parties.filter(
        state__in=[RoundParty.State.INVITED, RoundParty.State.RECEIVING]).values_list(
        "country", flat=True))
