"""The translatable text of the table definitions (titles, labels, notes).

makemessages does not read TOML files, so this module lists their strings for it;
`python -m opennrm.statistics.strings` rewrites DEFINITION_STRINGS below from the files,
and tests/statistics/test_definitions.py fails when the two differ.
"""

import tomllib
from pathlib import Path

from django.utils.translation import gettext_noop

DEFINITIONS_DIR = Path(__file__).parent / "definitions"


def strings_in_definitions() -> list[str]:
    found: list[str] = []

    def add(text):
        if isinstance(text, str) and text and text not in found:
            found.append(text)

    for path in sorted(DEFINITIONS_DIR.glob("*.toml")):
        if path.stem == "population":
            continue
        definition = tomllib.loads(path.read_text(encoding="utf-8"))
        add(definition.get("title"))
        for note in definition.get("notes", []):
            add(note)
        for dimension in definition.get("dimensions", {}).values():
            add(dimension.get("label"))
            for category in dimension.get("categories", []):
                add(category.get("label"))
        for table in definition.get("tables", []):
            add(table.get("title"))
            add(table.get("description"))
            for note in table.get("notes", []):
                add(note)
    return found


DEFINITION_STRINGS = [
    gettext_noop('CTDC-style profile of victims'),
    gettext_noop('Victims are presumed and formally identified victims first contacted in the period; each person counts once.'),
    gettext_noop('Multi-valued breakdowns (means of control, types of exploitation) overlap: only their total may be summed.'),
    gettext_noop('Age (CTDC bands)'),
    gettext_noop('Gender'),
    gettext_noop('Majority status'),
    gettext_noop('Minor'),
    gettext_noop('Adult'),
    gettext_noop('Means of control'),
    gettext_noop('Type of exploitation'),
    gettext_noop('Labour sector (ISIC)'),
    gettext_noop('Relation to the recruiter'),
    gettext_noop('Country of exploitation'),
    gettext_noop('Victims by age and gender'),
    gettext_noop('Means of control by majority status'),
    gettext_noop('Type of exploitation by gender'),
    gettext_noop('Labour sector by gender'),
    gettext_noop('Unknown includes persons with no labour sector recorded (for example, sexual exploitation only).'),
    gettext_noop('Relation to the recruiter by majority status'),
    gettext_noop('Country of exploitation by gender'),
    gettext_noop('The ten most frequent countries are shown; the rest are under Other. The first country recorded counts.'),
    gettext_noop('Eurostat: trafficking in human beings'),
    gettext_noop('Registered victims are presumed and formally identified victims first contacted in the period; each person counts once.'),
    gettext_noop('Suspected, prosecuted and convicted persons are those of criminal cases of trafficking in human beings (ICCS 0204): persons suspected of a related offence only (forced labour, pimping, smuggling of migrants) are not counted.'),
    gettext_noop('A person counts as suspected in the period they were first suspected, as prosecuted in the period they were indicted, and as convicted in the period of the conviction. Each person counts once in each table: persons recorded in several criminal cases with the same name and birth date are one person, described by their earliest record in the table.'),
    gettext_noop('Sex'),
    gettext_noop('Female'),
    gettext_noop('Male'),
    gettext_noop('Unknown'),
    gettext_noop('Age group'),
    gettext_noop('Less than 12 years'),
    gettext_noop('12 to 17 years'),
    gettext_noop('Less than 18 years, exact age not known'),
    gettext_noop('18 years or over'),
    gettext_noop('Citizenship'),
    gettext_noop('Reporting country'),
    gettext_noop('Other EU countries'),
    gettext_noop('Non-EU countries'),
    gettext_noop('Form of exploitation'),
    gettext_noop('Sexual exploitation'),
    gettext_noop('Labour exploitation'),
    gettext_noop('Other forms'),
    gettext_noop('Registering organisation'),
    gettext_noop('Status'),
    gettext_noop('Identified victims'),
    gettext_noop('Presumed victims'),
    gettext_noop('Registered victims by sex and age group'),
    gettext_noop('Registered victims by citizenship and sex'),
    gettext_noop('A person with several citizenships is counted under the first one recorded.'),
    gettext_noop('Registered victims by form of exploitation and sex'),
    gettext_noop('A person exploited in several forms is counted under the first form recorded.'),
    gettext_noop('Registered victims by registering organisation and status'),
    gettext_noop('Suspected persons by sex and age group'),
    gettext_noop('Age when the person was first suspected.'),
    gettext_noop('Suspected persons by citizenship and sex'),
    gettext_noop('Suspected persons by form of exploitation and sex'),
    gettext_noop('The form of exploitation of the criminal case.'),
    gettext_noop('Prosecuted persons by sex and age group'),
    gettext_noop('Prosecuted persons by citizenship and sex'),
    gettext_noop('Prosecuted persons by form of exploitation and sex'),
    gettext_noop('Convicted persons by sex and age group'),
    gettext_noop('Convicted persons by citizenship and sex'),
    gettext_noop('Convicted persons by form of exploitation and sex'),
    gettext_noop('UNODC: Global Report on Trafficking in Persons'),
    gettext_noop('Detected victims are presumed and formally identified victims first contacted in the period; each person counts once.'),
    gettext_noop('Breakdowns by form of exploitation overlap: a person exploited in several forms is counted in each. Only the total may be summed.'),
    gettext_noop('Children are persons who may be under 18 at first contact: with only a birth year, the youngest possible age counts, and a person whose age is not established and who is presumed a child is a child. "Adult, exact age unknown" counts as an adult.'),
    gettext_noop('Offences are criminal cases of trafficking in persons (ICCS 0204) opened in the period. Persons in formal contact are persons first suspected in such a case in the period, prosecuted persons those indicted in the period, convicted persons those convicted in the period. Related offences (forced labour, pimping, smuggling of migrants) are not counted.'),
    gettext_noop('Each person counts once in each table: persons recorded in several criminal cases with the same name and birth date are one person. Their age is their age when first suspected.'),
    gettext_noop('Age'),
    gettext_noop('Children (0-17)'),
    gettext_noop('Adults (18 and over)'),
    gettext_noop('Forced labour'),
    gettext_noop('Forced begging'),
    gettext_noop('Forced criminal activity'),
    gettext_noop('Forced marriage'),
    gettext_noop('Organ removal'),
    gettext_noop('Other purposes'),
    gettext_noop('Country of repatriation'),
    gettext_noop('Detected victims by sex and age'),
    gettext_noop('Detected victims by form of exploitation and age'),
    gettext_noop('Detected victims by citizenship and sex'),
    gettext_noop('The ten most frequent citizenships are shown; the rest are under Other. A person with several citizenships is counted under the first one recorded.'),
    gettext_noop('Victims repatriated by country of repatriation'),
    gettext_noop('Offences of trafficking in persons by form of exploitation'),
    gettext_noop('Criminal cases opened in the period, by the form of exploitation recorded in the case.'),
    gettext_noop('Persons in formal contact (suspected) by sex and age'),
    gettext_noop('Persons prosecuted by sex and age'),
    gettext_noop('Persons convicted by sex and age'),
    gettext_noop('NRM monitoring indicators'),
    gettext_noop('Persons are presumed and formally identified victims first contacted in the period, each counted once, unless a table says otherwise.'),
    gettext_noop("Days are counted from the first contact of the person's earliest case in the period. Percentiles take the nearest observed value."),
    gettext_noop('Children'),
    gettext_noop('Adults'),
    gettext_noop('Service type'),
    gettext_noop('Outcome'),
    gettext_noop('Accepted'),
    gettext_noop('Declined'),
    gettext_noop('Withdrawn, cancelled or stopped'),
    gettext_noop('Awaiting an answer'),
    gettext_noop('Reason for closure'),
    gettext_noop('Risk assessment'),
    gettext_noop('With a documented risk assessment'),
    gettext_noop('Without a risk assessment'),
    gettext_noop('Decision'),
    gettext_noop('Identified as a victim'),
    gettext_noop('Not identified'),
    gettext_noop('Partner country'),
    gettext_noop('Consent withdrawn before a decision'),
    gettext_noop('Awaiting a decision'),
    gettext_noop('Days from first contact to the first referral'),
    gettext_noop('Days from first contact to formal identification'),
    gettext_noop('Share of presumed victims formally identified'),
    gettext_noop('Share granted a recovery and reflection period'),
    gettext_noop('Share of foreign victims granted a residence permit'),
    gettext_noop('Referrals by service type and outcome'),
    gettext_noop('Referrals sent in the period, by their state at the time of computing.'),
    gettext_noop('Persons assisted by service type'),
    gettext_noop('A person assisted by several services is counted under each: only the total may be summed.'),
    gettext_noop('Cases closed by reason'),
    gettext_noop('Returns with and without a documented risk assessment'),
    gettext_noop('Formal identification decisions'),
    gettext_noop('Transnational referrals sent, by partner country and outcome'),
    gettext_noop('Referrals offered to partner nodes in the period, by their state at the time of computing: accepted counts those the partner accepted, whatever happened after.'),
    gettext_noop('Transnational referrals received, by partner country and outcome'),
    gettext_noop("Referrals offered by partner nodes in the period, by this node's decision at the time of computing."),
    gettext_noop('Transnational referrals for a return, with and without the joint risk assessment, by partner country'),
    gettext_noop('Referrals at the return stage sent or received in the period; with a risk assessment when the offer carried the joint risk assessment.'),
    gettext_noop('Share of identified victims whose case led to an indictment'),
    gettext_noop("Persons formally identified in the period (their case's first identification decision), each counted once. An indictment: a criminal case linked to one of the person's cases reached the indictment or a later stage of the trial, whenever, whatever the offence."),
    gettext_noop('Days from formal identification to the first-instance judgement'),
    gettext_noop("Persons formally identified in the period whose linked criminal case reached a first-instance judgement on or after the identification, counted from the person's earliest identification in the period to the first such judgement."),
    gettext_noop('Persons convicted per identified victim'),
    gettext_noop('Persons convicted, whenever, in the criminal cases linked to the victims formally identified in the period, divided by those victims. A person convicted in the cases of several victims counts once in each row and once in the total.'),
    gettext_noop('SDG 16.2.2: victims of trafficking per 100,000 population'),
    gettext_noop("Population figures come from the node's population file (see docs/statistics.md)."),
    gettext_noop('Population'),
    gettext_noop('All victims'),
    gettext_noop('Victims per 100,000 population'),
    gettext_noop('Victims per 100,000 population by sex'),
    gettext_noop('Victims per 100,000 population by age'),
    gettext_noop('Victims per 100,000 population by form of exploitation'),
]

if __name__ == "__main__":
    source = Path(__file__).read_text(encoding="utf-8")
    head, _, rest = source.partition("DEFINITION_STRINGS = [\n")
    _, _, tail = rest.partition("]\n")
    lines = "".join(f"    gettext_noop({text!r}),\n" for text in strings_in_definitions())
    Path(__file__).write_text(head + "DEFINITION_STRINGS = [\n" + lines + "]\n" + tail,
                              encoding="utf-8")
