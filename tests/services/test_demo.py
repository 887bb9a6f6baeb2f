from opennrm.cases.demo import ensure_demo_accounts
from opennrm.services.demo import DEMO_PROVIDERS, create_demo_directory
from opennrm.services.models import Provider, Service


def test_the_demo_directory_links_demo_agencies_and_runs_once(db):
    ensure_demo_accounts()

    created = create_demo_directory()

    assert created == Service.objects.count() == sum(len(p.services) for p in DEMO_PROVIDERS)
    assert Provider.objects.filter(agency__code="shelter").exists()
    assert Provider.objects.filter(agency__isnull=True).count() >= 5
    assert Service.objects.filter(genders=["female"], service_type="shelter").exists()
    assert Service.objects.filter(max_age=17, service_type="shelter").exists()
    assert create_demo_directory() == 0
    assert Service.objects.count() == created


def test_it_creates_the_demo_accounts_it_needs(db):
    assert create_demo_directory() > 0
