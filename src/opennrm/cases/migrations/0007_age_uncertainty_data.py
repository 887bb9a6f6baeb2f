"""The former "age uncertain" (always a presumed child) becomes "possibly a child"; every
case's age at first contact, age band and child flag are computed again by `cases.age`
(with only a birth year, the youngest possible age now decides)."""

from django.db import migrations

BATCH = 2000


def forward(apps, schema_editor):
    from opennrm.cases import age
    from opennrm.core import codelists

    Person = apps.get_model("cases", "Person")
    Case = apps.get_model("cases", "Case")
    Person.objects.filter(age_uncertain=True).update(age_uncertainty="possibly_child")
    cases = (Case.objects.select_related("person").order_by("pk")
             .only("first_contact_on", "age_band", "is_child", "age_at_first_contact",
                   "person__birth_date", "person__birth_year", "person__age_uncertainty"))
    changed = []
    for case in cases.iterator(chunk_size=BATCH):
        years = age.statistical_age(case.person, case.first_contact_on)
        band = codelists.age_band(years) if years is not None else ""
        child = age.may_be_child(case.person, case.first_contact_on)
        if (years, band, child) != (case.age_at_first_contact, case.age_band, case.is_child):
            case.age_at_first_contact, case.age_band, case.is_child = years, band, child
            changed.append(case)
        if len(changed) >= BATCH:
            Case.objects.bulk_update(changed, ["age_at_first_contact", "age_band", "is_child"])
            changed = []
    if changed:
        Case.objects.bulk_update(changed, ["age_at_first_contact", "age_band", "is_child"])


def backward(apps, schema_editor):
    Person = apps.get_model("cases", "Person")
    Person.objects.filter(age_uncertainty="possibly_child").update(age_uncertain=True)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_age_uncertainty_and_age_at_first_contact'),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
