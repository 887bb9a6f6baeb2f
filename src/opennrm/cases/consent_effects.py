"""What withdrawing a consent will stop, said before the caseworker confirms it.

`cases` cannot read the referrals or the transnational referrals that rest on a consent (they
sit above it). Each of those apps registers, in its `AppConfig.ready`, a function that says
what the withdrawal of a consent would stop in it, as the receivers of
`signals.consent_withdrawn` stop it once it is withdrawn. Each answer is a list of sentences
for the confirmation page, already translated; none names a person.
"""

from collections.abc import Callable

from opennrm.cases.models import Consent

# `effect(consent)`: sentences saying what withdrawing `consent` would stop (none: nothing).
WithdrawalEffect = Callable[[Consent], list[str]]

_effects: list[WithdrawalEffect] = []


def register_withdrawal_effect(effect: WithdrawalEffect) -> None:
    if effect not in _effects:
        _effects.append(effect)


def withdrawal_effects(consent: Consent) -> list[str]:
    """Every registered app's answer, in the order the apps were registered."""
    return [sentence for effect in _effects for sentence in effect(consent)]
