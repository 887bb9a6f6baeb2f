"""The linkage messages a node receives, applied inside the transaction that records the
message (`transnational.receiving`): a raised `Rejection` refuses the message, anything else
that raises makes the sender try again. The slow work (encoding, linking) is only started
here, after the commit (`services._soon`)."""

import uuid

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from opennrm.linkage.crossborder import services
from opennrm.linkage.crossborder.models import (
    LinkageAgreement,
    LinkageRound,
    ReceivedChunk,
    RoundParty,
    RoundState,
)
from opennrm.transnational.envelope import Rejection
from opennrm.transnational.identity import this_node
from opennrm.transnational.receiving import ReceivedMessage, register_handler
from opennrm.transnational.services import ChannelError


def auto_join() -> bool:
    """Join every valid invitation without waiting for the coordinator (off by default: a
    coordinator decides)."""
    return getattr(settings, "OPENNRM_CROSS_BORDER_AUTO_JOIN", False)


def _round(message: ReceivedMessage, role: str) -> LinkageRound:
    # Locked (the round's row only: its host may be none) while the message is applied.
    found = (LinkageRound.objects.select_for_update(of=("self",))
             .select_related("host", "agreement")
             .filter(round_id=uuid.UUID(message.payload["round_id"]), role=role).first())
    if found is None or (role == LinkageRound.Role.PARTICIPANT
                         and found.host_id != message.partner.pk):
        raise Rejection("unknown_round", f"This node has no linkage round "
                                         f"{message.payload['round_id']} with your node.")
    return found


def _refusal(agreement: LinkageAgreement | None, message: ReceivedMessage) -> str:
    """Why this node cannot take part in the round offered, or ""."""
    payload = message.payload
    node = this_node()
    if agreement is None:
        return f"this node has no linkage agreement named {payload['agreement']!r}"
    if not agreement.partners.filter(pk=message.partner.pk).exists():
        return f"the agreement {agreement.name!r} here does not name your node"
    if agreement.fingerprint != payload["fingerprint"]:
        return (f"the secret of the agreement {agreement.name!r} here has another fingerprint "
                f"({services.format_fingerprint(agreement.fingerprint)}): agree the secret again")
    if agreement.parameters != payload["parameters"]:
        return f"the agreement {agreement.name!r} here has other encoding parameters"
    if str(node.node_id) not in {party["node_id"] for party in payload["parties"]}:
        return "this node is not among the round's parties"
    return ""


def handle_round_opened(message: ReceivedMessage) -> None:
    payload = message.payload
    round_id = uuid.UUID(payload["round_id"])
    if LinkageRound.objects.filter(round_id=round_id).exists():
        return  # the same invitation again
    deadline = parse_datetime(payload["deadline"])
    if deadline is None:
        raise Rejection("invalid_payload", "The deadline is not a date and time.")
    agreement = LinkageAgreement.objects.filter(name=payload["agreement"]).first()
    refusal = _refusal(agreement, message)
    linkage_round = LinkageRound.objects.create(
        round_id=round_id, role=LinkageRound.Role.PARTICIPANT,
        agreement=None if refusal else agreement, agreement_name=payload["agreement"],
        host=message.partner, parameters=payload["parameters"], deadline=deadline,
        state=RoundState.INVITED,
        parties_key=services._parties_key(party["node_id"] for party in payload["parties"]),
        opened_at=timezone.now())
    if refusal:
        try:
            services._decline(None, linkage_round, refusal)
        except ChannelError:
            pass  # the host may not be sent linkage messages: the refusal is kept here only
    elif auto_join():
        services._start_encoding(linkage_round)


def handle_round_declined(message: ReceivedMessage) -> None:
    linkage_round = _round(message, LinkageRound.Role.HOST)
    party = linkage_round.parties.filter(node_id=message.partner.node_id).first()
    if party is None:
        raise Rejection("not_a_party", "Your node is not a party of this round.")
    if party.state in (RoundParty.State.INVITED, RoundParty.State.RECEIVING):
        party.state = RoundParty.State.DECLINED
        party.reason = message.payload["reason"]
        party.save(update_fields=["state", "reason"])
        services.maybe_link(linkage_round)


def handle_encodings(message: ReceivedMessage) -> None:
    from opennrm.linkage import pprl

    payload = message.payload
    linkage_round = _round(message, LinkageRound.Role.HOST)
    party = linkage_round.parties.filter(node_id=message.partner.node_id).first()
    if party is None:
        raise Rejection("not_a_party", "Your node is not a party of this round.")
    if linkage_round.state != RoundState.OPEN or party.state not in (
            RoundParty.State.INVITED, RoundParty.State.RECEIVING):
        if party.state == RoundParty.State.COMPLETE:
            return  # a chunk of encodings already complete, sent again
        raise Rejection("round_closed", f"The round is {linkage_round.get_state_display()}: "
                                        "it takes no more encodings.")
    if ReceivedChunk.objects.filter(round=linkage_round, node_id=party.node_id,
                                    kind=ReceivedChunk.Kind.ENCODINGS,
                                    index=payload["chunk"]).exists():
        return  # the same chunk again (sent anew under another message id)
    try:
        encodings = pprl.Encodings.from_payload(payload["encodings"])
    except pprl.PPRLError as error:
        raise Rejection("invalid_payload", f"encodings: {error}") from None
    expected = pprl.EncodingParameters.from_dict(linkage_round.parameters).version
    if encodings.parameters_version != expected:
        raise Rejection("invalid_payload", f"encodings of parameters "
                                           f"{encodings.parameters_version!r}, not {expected!r}")
    try:
        complete = services.store_chunk(linkage_round, party.node_id,
                                        ReceivedChunk.Kind.ENCODINGS, payload["chunk"],
                                        payload["chunks"], payload["encodings"])
    except services.LinkageError as error:
        raise Rejection("invalid_payload", " ".join(error.messages)) from None
    party.chunks_expected = payload["chunks"]
    party.chunks_received = ReceivedChunk.objects.filter(
        round=linkage_round, node_id=party.node_id, kind=ReceivedChunk.Kind.ENCODINGS).count()
    party.records += len(encodings)
    party.state = RoundParty.State.COMPLETE if complete else RoundParty.State.RECEIVING
    party.save(update_fields=["chunks_expected", "chunks_received", "records", "state"])
    if complete:
        services.maybe_link(linkage_round)


def handle_groups(message: ReceivedMessage) -> None:
    payload = message.payload
    linkage_round = _round(message, LinkageRound.Role.PARTICIPANT)
    if linkage_round.state == RoundState.LINKED:
        return  # a chunk of a result already applied
    if linkage_round.state not in (RoundState.SENT, RoundState.ENCODING):
        raise Rejection("round_closed", f"This node's round is "
                                        f"{linkage_round.get_state_display()}.")
    try:
        complete = services.store_chunk(linkage_round, message.partner.node_id,
                                        ReceivedChunk.Kind.GROUPS, payload["chunk"],
                                        payload["chunks"], payload["groups"])
    except services.LinkageError as error:
        raise Rejection("invalid_payload", " ".join(error.messages)) from None
    if complete:
        services.apply_groups_when_complete(linkage_round)


def handle_round_closed(message: ReceivedMessage) -> None:
    linkage_round = _round(message, LinkageRound.Role.PARTICIPANT)
    if linkage_round.state in (RoundState.LINKED, RoundState.DECLINED, RoundState.EXPIRED):
        return
    services.close_round(linkage_round, RoundState.EXPIRED,
                         f"closed by the host: {message.payload['reason']}")


def register() -> None:
    """In the app's ready(): the handlers of the linkage message types."""
    register_handler("linkage_round_opened", handle_round_opened)
    register_handler("linkage_round_declined", handle_round_declined)
    register_handler("linkage_encodings", handle_encodings)
    register_handler("linkage_groups", handle_groups)
    register_handler("linkage_round_closed", handle_round_closed)
