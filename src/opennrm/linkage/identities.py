"""Persons of the register as records of the linkage model, decrypted in memory only.

A person's fields map to `normalise.FIELDS`: given and family name, birth date (or only the
year when that is all that is known), sex from the gender, the first citizenship, the phone
and the first identity document's number. Aliases are not compared: the model has one given
and one family name per record. A value the model cannot read (a phone of three digits) is
left out of that person's record rather than leaving the whole person out: the other
values still find the duplicate.
"""

from collections.abc import Iterator, Mapping
from datetime import date

from opennrm.cases.models import Case, Person
from opennrm.linkage.normalise import IdentityNormaliser, UnreadableRecord

# Person.gender codes the model reads; "transgender_or_other" and "unknown" are missing.
SEX = {"female": "F", "male": "M"}
# The fields of a person that are decrypted for the model (the audit trail names them).
DECRYPTED_FIELDS = ("given_name", "family_name", "birth_date", "phone", "identity_documents")


def linkage_record(record_id: str, fields: Mapping) -> dict:
    """The model's record of one person: `fields` are a Person's (decrypted) or a
    registration's cleaned fields."""
    born = fields.get("birth_date") or ""
    if isinstance(born, date):
        born = born.isoformat()
    if not born and fields.get("birth_year"):
        born = str(fields["birth_year"])
    documents = fields.get("identity_documents") or []
    citizenships = fields.get("citizenships") or []
    return {
        "record_id": record_id,
        "given_name": fields.get("given_name") or "",
        "family_name": fields.get("family_name") or "",
        "birth_date": born,
        "sex": SEX.get(fields.get("gender") or "", ""),
        "citizenship": citizenships[0] if citizenships else "",
        "phone": fields.get("phone") or "",
        "document_number": next((document.get("number") or "" for document in documents
                                 if isinstance(document, Mapping)), ""),
    }


def without_unreadable_values(record: dict, normalise: IdentityNormaliser) -> dict:
    """`record` with the values the model cannot read emptied (a record without any name
    stays as it is: the model reports it as unreadable)."""
    try:
        normalise(record)
    except UnreadableRecord as error:
        return {**record, **{name: "" for name in error.reasons
                             if name not in ("given_name", "family_name")}}
    return record


def _person_fields(person: Person) -> dict:
    return {name: getattr(person, name) for name in
            ("given_name", "family_name", "birth_date", "birth_year", "gender", "citizenships",
             "phone", "identity_documents")}


def register_records(exclude_person_id: int | None = None) -> Iterator[dict]:
    """The record of every person with at least one case (record id: the person's id)."""
    normalise = IdentityNormaliser()
    persons = (Person.objects.filter(pk__in=Case.objects.values("person_id"))
               .exclude(pk=exclude_person_id)
               .only("pk", *DECRYPTED_FIELDS, "birth_year", "gender", "citizenships")
               .order_by("pk"))
    for person in persons.iterator(chunk_size=2000):
        yield without_unreadable_values(
            linkage_record(str(person.pk), _person_fields(person)), normalise)


def comparisons_of(pair) -> list[dict]:
    """A scored pair's reasons as stored on a candidate pair: levels and weights only."""
    return [{"comparison": field.comparison, "level": field.level,
             "match_weight": None if field.match_weight is None
             else round(field.match_weight, 2)}
            for field in pair.fields]
