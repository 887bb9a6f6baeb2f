"""The channel's own message types. Workflows register theirs the same way
(`receiving.register_handler` in their AppConfig.ready)."""

from opennrm.transnational import services
from opennrm.transnational.receiving import ReceivedMessage, register_handler


def answer_ping(message: ReceivedMessage) -> None:
    """A ping is answered with a pong, queued in the transaction that applies the ping."""
    if "pong" in message.partner.allowed_types:
        services.send_message(None, message.partner, "pong",
                              {"text": message.payload.get("text", "")[:200]},
                              in_reply_to=message.message_id)


def nothing_to_do(message: ReceivedMessage) -> None:
    """A pong: being recorded is its whole effect."""


register_handler("ping", answer_ping)
register_handler("pong", nothing_to_do)
