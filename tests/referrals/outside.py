"""Services outside OpenNRM for the external referral tests: three legal-aid offices that
no agency of the node runs (as in the demo directory), contacted by e-mail or telephone."""

from opennrm.referrals import services
from opennrm.services.models import ContactChannel, Provider, Service

# What the person does not share, and must not reach a letter or a provider.
NOT_SHARED = ("Popescu", "AB1234567", "+37369123456", "Ștefan cel Mare")


def make_legal_aid(name: str = "State-Guaranteed Legal Aid, Chișinău",
                   service_name: str = "Lawyer for victims in criminal proceedings",
                   city: str = "Chișinău", *, response_days: int = 3) -> Service:
    """A legal-aid service whose provider is no agency of this node."""
    provider = Provider.objects.create(
        name=name, organisation_type="central_government", country="MD",
        email="chisinau@legal-aid.example.md", phone="+373 22 000 202")
    return Service.objects.create(
        provider=provider, name=service_name, service_type="legal_aid", country="MD",
        city=city, address="str. București 12", contact_channel=ContactChannel.EMAIL,
        response_days=response_days)


def three_legal_aid_offices() -> list[Service]:
    return [make_legal_aid(),
            make_legal_aid("State-Guaranteed Legal Aid, Bălți", city="Bălți"),
            make_legal_aid("Legal Clinic of the Law Faculty", "Legal advice and representation")]


def record(caseworker, case, service, shared=("given_name", "gender", "languages", "needs"),
           needs: str = "A lawyer for the hearing on 20 March.", **kwargs):
    """An external referral recorded by `caseworker` (the case needs a referral consent
    naming no agency)."""
    return services.record_external_referral(caseworker, case, service, list(shared), needs,
                                             **kwargs)
