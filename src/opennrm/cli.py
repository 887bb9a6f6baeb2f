"""The `opennrm` command: run a node, load demo data, manage users, keys and the audit trail."""

import getpass
import os
import subprocess
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="OpenNRM national node.", no_args_is_help=True)
keys_app = typer.Typer(help="The key ring that encrypts personal data.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
reminders_app = typer.Typer(help="Deadlines and reminders.", no_args_is_help=True)
services_app = typer.Typer(help="The service directory (Open Referral HSDS).",
                           no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(tokens_app, name="tokens")
app.add_typer(reminders_app, name="reminders")
app.add_typer(services_app, name="services")
stats_app = typer.Typer(help="Statistics and reports (disclosure-controlled).",
                        no_args_is_help=True)
app.add_typer(stats_app, name="stats")
console = Console()


def _setup(debug: bool = False, serves_requests: bool = False) -> None:
    if debug:
        os.environ.setdefault("OPENNRM_DEBUG", "1")
    if not serves_requests:
        os.environ.setdefault("OPENNRM_CLI", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")
    import django

    django.setup()


def _system_actor():
    """The CLI acts as the operator running it, recorded by their login name."""
    from django.contrib.auth.models import AnonymousUser

    actor = AnonymousUser()
    actor.username = f"cli:{getpass.getuser()}"
    return actor


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Create or update the database tables."""
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


@app.command()
def demo(
    cases: Annotated[int, typer.Option(help="How many synthetic cases to register.")] = 200,
    seed: Annotated[int | None, typer.Option(help="Seed, for reproducible data.")] = None,
) -> None:
    """Load synthetic demo agencies, users and cases (never real people)."""
    _setup()
    from django.conf import settings

    # The demo users' passwords are published in the README: never on a real node.
    if not settings.DEBUG and os.environ.get("OPENNRM_ALLOW_DEMO") != "1":
        _fail("the demo creates users with published passwords; this node runs with DEBUG "
              "off. For a throw-away database (benchmarks), set OPENNRM_ALLOW_DEMO=1.")
    _load_demo(cases, seed)


# Small demos (`opennrm run` loads 300) also get screenings, a service directory, referrals
# and protection steps; a 100k benchmark load does not.
DEMO_SCREENING_UP_TO = 5000


def _load_demo(cases: int, seed: int | None):
    from opennrm.cases.demo import generate_demo

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("Registering demo cases", total=cases)
        result = generate_demo(cases, progress=lambda n: bar.advance(task, n), seed=seed)
    console.print(f"Registered {result.cases_created} demo cases.")
    if 0 < cases <= DEMO_SCREENING_UP_TO:
        from opennrm.protection.demo import create_demo_protection
        from opennrm.referrals.demo import create_demo_referrals
        from opennrm.screening.demo import screen_demo_cases
        from opennrm.services.demo import create_demo_directory

        console.print(f"Screened {screen_demo_cases()} demo cases against the indicators.")
        console.print(f"Listed {create_demo_directory()} services in the directory.")
        console.print(f"Made {create_demo_referrals()} referrals.")
        console.print(f"Gave {create_demo_protection()} cases protection steps.")
        from opennrm.justice.demo import create_demo_criminal_cases

        console.print(f"Opened {create_demo_criminal_cases()} criminal cases on the victims.")
        from opennrm.linkage.demo import create_demo_linkage

        console.print(f"Found {create_demo_linkage()} possible duplicates to review (log in as "
                      "coordinator or ngo-supervisor).")
        from opennrm.demo_journey import follow_one_person

        journey = follow_one_person()
        if journey is not None:
            console.print(f"Follow one person from identification to closure: case "
                          f"[bold]{journey.case_number}[/bold] (log in as ngo-caseworker; "
                          f"its referrals as police-caseworker and shelter-caseworker).")
    _print_logins(result.logins)
    return result


def _print_logins(logins) -> None:
    table = Table(title="Demo logins (synthetic data only)")
    for column in ("username", "password", "role", "agency"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, login.password, login.role, login.agency_name)
    # Wide enough that a password is never cut short, even when output is not a terminal.
    Console(width=max(console.width, 130)).print(table)


def _local_base_url(host: str, port: int) -> str:
    """The address of `opennrm run`'s server, for links in e-mails. A server listening on
    every interface is reached on this computer as 127.0.0.1."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"


@app.command()
def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    demo_cases: Annotated[int, typer.Option(help="Demo cases to load into an empty node.")] = 300,
) -> None:
    """Run a local node: migrate, load demo data if empty, serve on http://HOST:PORT.

    Links in e-mails point at http://HOST:PORT unless OPENNRM_BASE_URL is set."""
    if not os.environ.get("OPENNRM_BASE_URL"):
        # Before the settings are read; the worker started below inherits it.
        os.environ["OPENNRM_BASE_URL"] = _local_base_url(host, port)
    _setup(debug=True)
    from django.core.management import call_command

    from opennrm.cases.demo import generate_demo
    from opennrm.cases.models import Case

    call_command("migrate", interactive=False, verbosity=0)
    if not Case.objects.exists():
        _load_demo(demo_cases, seed=2026)
    else:
        _print_logins(generate_demo(0).logins)
    # The background worker (reminders, e-mail) beside the server. The demo's e-mails (the
    # console e-mail backend) go to its log, not between the server's lines.
    from django.conf import settings

    # The database and the key ring may live elsewhere (DATABASE_URL, OPENNRM_KEYRING), so
    # nothing may have made the var folder yet.
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    worker_log = settings.VAR_DIR / "worker.log"
    with open(worker_log, "ab") as log:
        worker = subprocess.Popen([sys.executable, "-m", "opennrm.cli", "worker"],
                                  stdout=log, stderr=subprocess.STDOUT)
    console.print(f"Background worker started; its e-mails and messages: {worker_log}")
    console.print(f"OpenNRM is at http://{host}:{port}/ (Ctrl+C stops it)")
    try:
        call_command("runserver", f"{host}:{port}", use_reloader=False)
    finally:
        worker.terminate()
        worker.wait(timeout=10)


@app.command()
def worker(
    interval: Annotated[float, typer.Option(help="Seconds between looks at an empty queue.")] = 1,
) -> None:
    """Run the background worker: deadline reminders (hourly), e-mail notifications, signed
    audit checkpoints (hourly), the nightly linkage job and the scheduled statistics
    releases to partners (when the coordinator turned them on)."""
    _setup(serves_requests=True)
    from django.core.management import call_command

    from opennrm.audit.tasks import schedule_checkpoints
    from opennrm.linkage.tasks import schedule_nightly_linkage
    from opennrm.regional.tasks import schedule_regional_releases
    from opennrm.reminders.tasks import schedule_sweep

    schedule_sweep()
    schedule_checkpoints()
    schedule_nightly_linkage()
    schedule_regional_releases()
    call_command("db_worker", interval=interval, reload=False)


@reminders_app.command("sweep")
def reminders_sweep(
    today: Annotated[str | None, typer.Option(help="Date to sweep as (YYYY-MM-DD).")] = None,
) -> None:
    """Notify the responsible people of every open deadline now (each once), then e-mail."""
    _setup()
    from django.utils.dateparse import parse_date

    from opennrm.reminders.services import reminder_sweep, send_pending_emails

    day = parse_date(today) if today else None
    if today and day is None:
        _fail("give the date as YYYY-MM-DD")
    created = reminder_sweep(day)
    console.print(f"{created} new notifications; {send_pending_emails()} e-mailed.")


@app.command()
def createagency(
    code: str,
    name: Annotated[str, typer.Option()],
    agency_type: Annotated[str, typer.Option("--type", help="Code from agency_types.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2.")],
) -> None:
    """Create an agency (organisation) of the NRM."""
    _setup()
    from opennrm.accounts.provisioning import create_agency

    agency = _with_validation(create_agency, code=code, name=name, agency_type=agency_type,
                              country=country, channel="cli")
    console.print(f"Created agency {agency.code}.")


@app.command()
def createuser(
    username: str,
    role: Annotated[str, typer.Option(help="caseworker, supervisor, national_coordinator, "
                                           "analyst, auditor or administrator")],
    agency: Annotated[str, typer.Option(help="Agency code.")] = "",
    email: str = "",
    totp: Annotated[bool, typer.Option(help="Enrol a TOTP device and print its URI.")] = False,
) -> None:
    """Create a user. The password is read from OPENNRM_PASSWORD or asked for."""
    _setup()
    from opennrm.accounts.provisioning import create_user, enrol_totp

    password = os.environ.get("OPENNRM_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    user = _with_validation(create_user, username=username, password=password, role=role,
                            agency_code=agency, email=email, channel="cli")
    console.print(f"Created user {user.username} ({user.get_role_display()}).")
    if totp:
        console.print("Add this to the authenticator app (shown once):")
        console.print(enrol_totp(user, channel="cli"))


@tokens_app.command("create")
def tokens_create(
    username: str,
    name: str = "cli",
    days: Annotated[int | None, typer.Option(
        help="Days until it expires, 1 to 365 (default OPENNRM_API_TOKEN_DAYS, 90).")] = None,
    read_only: Annotated[bool, typer.Option(help="It may only read and search.")] = False,
) -> None:
    """Issue an API token for USERNAME. The secret is printed once, on the last line.

    As the operator on the server, you may issue one for any active user, privileged roles
    included, without their one-time code; every token expires."""
    _setup()
    from opennrm.accounts.models import User
    from opennrm.accounts.provisioning import issue_api_token

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        _fail(f"no active user {username!r}")
    _, secret = _with_validation(issue_api_token, user=user, name=name, expires_in_days=days,
                                 channel="cli", read_only=read_only, by_operator=True)
    console.print(f"API token for {username} (store it now; it is not kept):", style="bold")
    print(secret)


@tokens_app.command("list")
def tokens_list(username: str) -> None:
    """List USERNAME's API tokens: created, last used, expiry, access, revoked."""
    _setup()
    from opennrm.accounts.models import ApiToken

    table = Table(title=f"API tokens of {username}")
    for column in ("id", "name", "created", "last used", "expires", "access", "revoked"):
        table.add_column(column)

    def when(moment, fmt="%Y-%m-%d %H:%M") -> str:
        return moment.strftime(fmt) if moment else ""

    for token in ApiToken.objects.filter(user__username=username).order_by("-created_at"):
        table.add_row(str(token.pk), token.name, when(token.created_at),
                      when(token.last_used_at) or "never", when(token.expires_at, "%Y-%m-%d"),
                      "read only" if token.read_only else "read and write",
                      when(token.revoked_at))
    console.print(table)


@app.command()
def export(
    username: Annotated[str, typer.Option("--as", help="The user whose access applies.")],
    reason: Annotated[str, typer.Option(help="Why the data is exported (audited).")],
    output: Annotated[str, typer.Option(help="CSV file to write.")],
    identity: Annotated[bool, typer.Option(help="Include names, birth date, phone.")] = False,
) -> None:
    """Export the cases a user may see as CSV; every exported case is audited."""
    _setup()
    from opennrm.accounts.models import User
    from opennrm.cases.access import CaseAccessDenied
    from opennrm.cases.exports import export_cases_csv

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        _fail(f"no active user {username!r}")
    try:
        with open(output, "w", newline="", encoding="utf-8") as handle:
            count = _with_validation(export_cases_csv, actor=user, reason=reason, out=handle,
                                     include_identity=identity, channel="cli")
    except CaseAccessDenied as error:
        os.remove(output)
        _fail(str(error))
    console.print(f"Exported {count} cases to {output}.")


@keys_app.command("status")
def keys_status() -> None:
    """Show the data keys and how many stored values each encrypts."""
    _setup()
    from opennrm.core.keyring import get_keyring
    from opennrm.core.rotation import key_usage

    ring = get_keyring()
    usage = key_usage()
    table = Table(title=f"Key ring {ring.path}")
    for column in ("key", "created", "active", "values encrypted"):
        table.add_column(column)
    for key_id in ring.data_keys:
        table.add_row(key_id, ring.created.get(key_id, ""),
                      "yes" if key_id == ring.active_key_id else "",
                      str(usage.get(key_id, 0)))
    for key_id in sorted(set(usage) - set(ring.data_keys)):
        table.add_row(key_id, "", "MISSING", str(usage[key_id]))
    console.print(table)


@keys_app.command("rotate")
def keys_rotate(
    retire_old: Annotated[bool, typer.Option(help="Retire old keys once nothing uses them.")]
    = False,
) -> None:
    """Add a new data key and re-encrypt every stored value with it, while the node runs."""
    _setup()
    import time

    from opennrm.audit.models import Action
    from opennrm.audit.services import AuditEvent, record_event
    from opennrm.core.keyring import RELOAD_INTERVAL_SECONDS, get_keyring
    from opennrm.core.rotation import key_usage, reencrypt_all, retire_key

    ring = get_keyring()
    old_keys = [k for k in ring.data_keys if k != ring.active_key_id]
    old_keys.append(ring.active_key_id)
    new_key = ring.add_key()
    console.print(f"New active key {new_key}.")
    # Let running web workers see the new key before values are re-encrypted with it.
    time.sleep(RELOAD_INTERVAL_SECONDS * 2)
    total = sum(key_usage().values())
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("Re-encrypting", total=total)
        rewritten = reencrypt_all(progress=lambda n: bar.advance(task, n))
    record_event(_system_actor(), AuditEvent(Action.KEY_ROTATION, "keyring", new_key,
                                             reason=f"{rewritten} values re-encrypted"), "cli")
    console.print(f"Re-encrypted {rewritten} values.")
    if retire_old:
        for key_id in old_keys:
            retire_key(key_id)
            console.print(f"Retired {key_id}.")


@keys_app.command("retire")
def keys_retire(key_id: str) -> None:
    """Remove an old data key; refused while any stored value still uses it."""
    _setup()
    from opennrm.core.keyring import KeyRingError
    from opennrm.core.rotation import retire_key

    try:
        retire_key(key_id)
    except KeyRingError as error:
        _fail(str(error))
    console.print(f"Retired {key_id}.")


@keys_app.command("rotate-signing")
def keys_rotate_signing(
    retire_old: Annotated[bool, typer.Option(
        help="Forget the old keys' private halves (their public halves stay, so what they "
             "signed still verifies).")] = False,
) -> None:
    """Add a new Ed25519 signing key (the node's identity; it signs audit checkpoints) and
    make it the active one. A node with a transnational identity rotates with `opennrm node
    rotate-keys` instead, which tells its partners."""
    _setup()
    from opennrm.core.keyring import get_keyring
    from opennrm.transnational.models import Node

    if Node.objects.exists():
        _fail("this node has partners' trust in its signing key: rotate with `opennrm node "
              "rotate-keys`, which announces the new key to them")
    ring = get_keyring()
    old_keys = [k for k, key in ring.signing_keys.items() if key["private"]]
    console.print(f"New active signing key {ring.add_signing_key()}.")
    if retire_old:
        for key_id in old_keys:
            ring.retire_signing_key(key_id)
            console.print(f"Retired signing key {key_id}.")


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[list[str] | None, typer.Option(
        help="A file of signed checkpoints (one per line) kept outside the database; "
             "repeatable.")] = None,
) -> None:
    """Recompute the keyed audit chain and check it against every signed checkpoint; exit 1
    if any entry was changed, inserted or removed."""
    _setup()
    from pathlib import Path

    from opennrm.audit.checkpoints import read_checkpoint_file
    from opennrm.audit.services import verify_chain

    tokens = []
    for name in checkpoint or []:
        try:
            tokens += read_checkpoint_file(Path(name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            _fail(f"cannot read {name}: {error}")
    report = verify_chain(checkpoint_tokens=tokens)
    if report.ok:
        console.print(f"[green]Audit trail intact:[/green] {report.entries_checked} entries, "
                      f"{report.checkpoints_checked} signed checkpoints.")
        if report.latest_checkpoint is None:
            console.print("No signed checkpoint: a wipe, or entries removed from the end, "
                          "cannot be told apart from a new trail (`opennrm audit checkpoint`).")
        return
    console.print(f"[red]Audit trail BROKEN[/red] ({report.entries_checked} entries read):")
    for problem in report.problems:
        console.print(f"  - {problem}")
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    output: Annotated[str, typer.Option(
        help="File to append the signed checkpoint to, or - for standard output.")] = "-",
) -> None:
    """Sign the head of the chain with the node's key, store it, and write it out."""
    _setup()
    from opennrm.audit.checkpoints import write_checkpoint
    from opennrm.audit.tasks import append_to_file

    checkpoint = write_checkpoint()
    if output == "-":
        sys.stdout.write(checkpoint.token + "\n")
        return
    append_to_file(output, checkpoint.token)
    console.print(f"Checkpoint at entry {checkpoint.sequence} signed with key "
                  f"{checkpoint.key_id}, appended to {output}.")


@db_app.command("harden")
def db_harden(
    app_role: Annotated[str, typer.Option(
        help="The PostgreSQL role the application connects as (not the tables' owner).")],
) -> None:
    """Take UPDATE, DELETE and TRUNCATE of the audit tables away from the application's
    role. Run it as the tables' owner (the role that ran the migrations)."""
    _setup()
    from django.db import connection

    from opennrm.audit.guard import HardenError, harden

    try:
        statements = harden(connection, app_role)
    except HardenError as error:
        _fail(str(error))
    for statement in statements:
        console.print(statement + ";")


AsUser = Annotated[str, typer.Option("--as", help="A directory manager's username (national "
                                          "coordinator or administrator): audited as them.")]


def _directory_command(command: str, path: str, username: str, **options) -> None:
    _setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command(command, path, username=username, **options)
    except CommandError as error:
        _fail(str(error))


@services_app.command("import")
def services_import(
    path: str, as_user: AsUser,
    country: Annotated[str, typer.Option(help="Country of entries whose files give none "
                                              "(default: OPENNRM_COUNTRY)")] = "",
    organisation_type: Annotated[str, typer.Option(
        help="Organisation type (agency_types) where the files and the mapping file give "
             "none")] = "",
    service_type: Annotated[str, typer.Option(
        help="Service type (service_types) where the files and the mapping file give "
             "none")] = "",
    mapping: Annotated[str, typer.Option(help="A mapping file instead of the node's")] = "",
) -> None:
    """Create or update providers and services from an HSDS 3.0 zip or folder (all or
    nothing); lists what is not kept."""
    _directory_command("hsds_import", path, as_user, country=country,
                       organisation_type=organisation_type, service_type=service_type,
                       mapping=mapping or None)


@services_app.command("export")
def services_export(path: str, as_user: AsUser) -> None:
    """Write the whole directory to an HSDS 3.0 zip."""
    _directory_command("hsds_export", path, as_user)


@stats_app.command("report")
def stats_report(
    period: Annotated[str, typer.Option(help="2025, 2025-Q3, 2025-03 or "
                                             "2025-01-01..2025-06-30.")],
    file_format: Annotated[str, typer.Option(
        "--format", help="pdf, xlsx or csv; sdmx-csv: the Eurostat set as SDMX-CSV 2.0 "
                         "(a year, quarter or month), with the GLOTIP questionnaire written "
                         "next to it; glotip-xlsx: the GLOTIP set alone in the layout of the "
                         "UNODC questionnaire (docs/international-reporting.md)."
    )] = "pdf",
    table_set: Annotated[str, typer.Option(help="all, or a table set's key: eurostat, "
                                                "glotip, sdg, ctdc, nrm or a country's own "
                                                "(xlsx and csv: one set; sdmx-csv and "
                                                "glotip-xlsx: their own).")] = "all",
    output: Annotated[str, typer.Option(help="File to write (default: a name from the "
                                             "period).")] = "",
    language: Annotated[str, typer.Option(help="en, ro, uk or ru.")] = "en",
    threshold: Annotated[int | None, typer.Option(
        help="Smallest count published (default and minimum: the node's policy).")] = None,
    rounding: Annotated[int | None, typer.Option(
        help="Round counts to this base, 0: no (default and minimum: the node's "
             "policy).")] = None,
) -> None:
    """Write the statistical report of a period: tables after disclosure control."""
    _setup()
    from django.conf import settings

    from opennrm.core import codelists
    from opennrm.core.datafiles import DataFileError
    from opennrm.statistics import engine, glotip_questionnaire, releases, sdmx
    from opennrm.statistics.periods import PeriodError, format_period, parse_period

    if file_format not in ("pdf", "xlsx", "csv", "sdmx-csv", "glotip-xlsx"):
        _fail("--format must be pdf, xlsx, csv, sdmx-csv or glotip-xlsx")
    if language not in ("en", "ro", "uk", "ru"):
        _fail("--language must be en, ro, uk or ru")
    # The international formats carry the table set their data file names.
    own_set = None
    try:
        if file_format == "sdmx-csv":
            own_set = sdmx.load_structure()["table_set"]
        elif file_format == "glotip-xlsx":
            own_set = glotip_questionnaire.load_layout()["table_set"]
    except DataFileError as error:
        _fail(str(error))
    if own_set and table_set not in ("all", own_set):
        _fail(f"--format {file_format} writes the table set {own_set}")
    keys = [own_set] if own_set else (
        list(engine.table_set_keys()) if table_set == "all" else [table_set])
    if file_format == "sdmx-csv":  # the GLOTIP questionnaire goes next to it
        try:
            keys.append(glotip_questionnaire.load_layout()["table_set"])
        except DataFileError as error:
            _fail(str(error))
    if any(key not in engine.table_set_keys() for key in keys):
        _fail(f"unknown table set {table_set!r}")
    if file_format in ("xlsx", "csv") and len(keys) != 1:
        _fail(f"--format {file_format} writes one table set: add --table-set")
    try:
        start, end = parse_period(period)
        if file_format == "sdmx-csv":
            sdmx.time_period(start, end)
        results = releases.report(keys, start, end,
                                  releases.policy_controls(threshold, rounding),
                                  language=language)
    except (PeriodError, releases.ReleaseError, sdmx.SdmxError) as error:
        _fail(str(error))
    from django.utils import translation
    from django.utils.translation import gettext as _

    with translation.override(language):
        title = _("Trafficking in human beings: national statistics")
    country = codelists.label("countries", settings.OPENNRM_COUNTRY, language)
    reference = f"{keys[0] if own_set else table_set} {period}"
    suffix = file_format
    if file_format == "sdmx-csv":
        body = sdmx.export_sdmx_csv(None, results[0], country=settings.OPENNRM_COUNTRY,
                                    object_ref=reference, channel="cli")
        suffix = "csv"
    elif file_format == "glotip-xlsx":
        with translation.override(language):
            body = glotip_questionnaire.export_questionnaire(
                None, results[0], country_name=country, object_ref=reference, channel="cli")
        suffix = "questionnaire.xlsx"
    else:
        body = releases.export_tables(
            None, results, file_format, title=title, country_name=country,
            language=language, object_type="statistics", object_ref=reference,
            reason=f"report {file_format}", channel="cli")
    name = keys[0] if own_set else table_set
    output = output or f"opennrm-{name}-{format_period(start, end)}.{suffix}"
    with open(output, "wb") as handle:
        handle.write(body)
    written = keys[0] if own_set else ", ".join(keys)
    console.print(f"Wrote {output} ({len(body):,} bytes): {written}, {start} – {end}.")
    if file_format == "sdmx-csv":
        from pathlib import Path

        beside = Path(output).with_name(f"{Path(output).stem}-glotip-questionnaire.xlsx")
        with translation.override(language):
            questionnaire = glotip_questionnaire.export_questionnaire(
                None, results[1], country_name=country, object_ref=f"{keys[1]} {period}",
                channel="cli")
        beside.write_bytes(questionnaire)
        console.print(f"Wrote {beside} ({len(questionnaire):,} bytes): {keys[1]}, {start} – "
                      f"{end}.")


@stats_app.command("policy")
def stats_policy(
    threshold: Annotated[int | None, typer.Option(help="Smallest count published.")] = None,
    rounding: Annotated[int | None, typer.Option(
        help="Smallest rounding base of published counts (0: none).")] = None,
    minimum_k: Annotated[int | None, typer.Option(
        "--minimum-k", help="Smallest k of the research extract.")] = None,
    reason: Annotated[str, typer.Option(help="Why the policy changes (audited).")] = "",
) -> None:
    """Show the node's disclosure policy, or change it (audited, as the server operator)."""
    _setup()
    from opennrm.statistics import policy

    if threshold is not None or rounding is not None or minimum_k is not None:
        try:
            policy.set_policy(None, threshold=threshold, rounding=rounding,
                              minimum_k=minimum_k, reason=reason, channel="cli")
        except policy.PolicyError as error:
            _fail(str(error))
    node = policy.current_policy()
    console.print(f"Disclosure policy: threshold {node.threshold}, rounding "
                  f"{node.rounding or 'none'}, minimum k {node.minimum_k}.")


# --- the transnational channel (docs/transnational.md) -------------------------------------

node_app = typer.Typer(help="This node's transnational identity and card.", no_args_is_help=True)
partner_app = typer.Typer(help="Partner nodes of other countries.", no_args_is_help=True)
trm_app = typer.Typer(help="Messages between nodes: worker, log, evidence.",
                      no_args_is_help=True)
app.add_typer(node_app, name="node")
app.add_typer(partner_app, name="partner")
app.add_typer(trm_app, name="trm")


def _trm_call(function, *args, **kwargs):
    from opennrm.transnational.identity import IdentityError
    from opennrm.transnational.services import ChannelError

    try:
        return function(*args, **kwargs)
    except (IdentityError, ChannelError) as error:
        _fail(str(error))


@node_app.command("init")
def node_init(
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code of this node.")],
    name: Annotated[str, typer.Option(help="The node's name, shown to partners.")],
    endpoint: Annotated[str, typer.Option(help="Base URL partners reach this node at.")],
) -> None:
    """Give this node its transnational identity (node id, X25519 key in the key ring; the
    Ed25519 signing key of the key ring is reused)."""
    _setup()
    from opennrm.transnational.identity import card_fingerprint, format_fingerprint, init_node
    from opennrm.transnational.identity import node_card as make_card

    node = _trm_call(init_node, None, country, name, endpoint)
    print(f"Node {node.node_id} ({node.country}, {node.name}) at {node.endpoint}")
    print(f"Fingerprint: {format_fingerprint(card_fingerprint(make_card()))}")


@node_app.command("card")
def node_card(
    output: Annotated[str | None, typer.Option(help="Write the card to this file.")] = None,
) -> None:
    """Export this node's card (JSON) and show its fingerprint."""
    _setup()
    import json

    from opennrm.transnational.identity import card_fingerprint, format_fingerprint
    from opennrm.transnational.identity import node_card as make_card

    card = _trm_call(make_card)
    text = json.dumps(card, indent=2)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        console.print(f"Card written to {output}")
    else:
        print(text)
    # Without --output the card is on stdout alone (to pipe it), the fingerprint on stderr.
    print(f"Fingerprint: {format_fingerprint(card_fingerprint(card))}",
          file=sys.stdout if output else sys.stderr)


def _print_announcement(announcement) -> None:
    from opennrm.transnational.identity import format_fingerprint

    print(f"Active signing key: {announcement.signing_key_id}")
    print(f"Active encryption key: {announcement.encryption_key_id}")
    print(f"Fingerprint: {format_fingerprint(announcement.fingerprint)}")
    print("Partners told: " + (", ".join(str(p) for p in announcement.told) or "none"))
    if announcement.not_told:
        console.print("[yellow]Not told (suspended):[/yellow] "
                      + ", ".join(str(p) for p in announcement.not_told)
                      + " — after resuming, exchange cards again (partner import).")


@node_app.command("rotate-keys")
def node_rotate_keys() -> None:
    """New signing and encryption keys for this node; every active partner is sent the new
    card, signed with the previous key. The previous keys stay until revoked."""
    _setup()
    from opennrm.transnational import keys
    from opennrm.transnational.delivery import wait_for_deliveries

    announcement = _trm_call(keys.rotate_keys, None)
    wait_for_deliveries()
    _print_announcement(announcement)


@node_app.command("keys")
def node_keys() -> None:
    """This node's keys: active, earlier and revoked."""
    _setup()
    from opennrm.transnational import keys

    table = Table(title="Node keys")
    for column in ("kid", "use", "created", "state"):
        table.add_column(column)
    for key in keys.node_keys():
        state = ("active" if key.active else f"revoked {key.revoked}" if key.revoked
                 else "earlier" if key.private_kept else "earlier (private half retired)")
        table.add_row(key.kid, key.use, key.created, state)
    console.print(table)


@node_app.command("revoke-key")
def node_revoke_key(
    kid: Annotated[str, typer.Argument(help="The key's id (opennrm node keys).")],
    reason: Annotated[str, typer.Option(help="Why (sent to the partners).")],
) -> None:
    """Revoke an earlier key of this node (not the active one: rotate first); every active
    partner is told and refuses what is signed with it from then on."""
    _setup()
    from opennrm.transnational import keys
    from opennrm.transnational.delivery import wait_for_deliveries

    announcement = _trm_call(keys.revoke_key, None, kid, reason)
    wait_for_deliveries()
    print(f"Revoked {kid}.")
    _print_announcement(announcement)


@partner_app.command("import")
def partner_import(
    card: Annotated[str, typer.Argument(help="The partner's card (a JSON file).")],
    fingerprint: Annotated[str, typer.Option(help="The fingerprint the partner read out.")],
) -> None:
    """Import a partner node's card; refused unless the fingerprint matches."""
    _setup()
    import json

    from opennrm.transnational.identity import import_partner

    try:
        with open(card, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        _fail(f"cannot read the card: {error}")
    partner = _trm_call(import_partner, None, data, fingerprint)
    console.print(f"Partner {partner.node_id} ({partner.country}, {partner.name}) imported; "
                  f"allowed types: {', '.join(partner.allowed_types)}")


@partner_app.command("list")
def partner_list() -> None:
    """The partner nodes, their state and allowed message types."""
    _setup()
    from opennrm.transnational.identity import format_fingerprint
    from opennrm.transnational.models import Partner

    table = Table(title="Partner nodes")
    for column in ("node id", "country", "name", "endpoint", "state", "allowed types",
                   "fingerprint"):
        table.add_column(column)
    for partner in Partner.objects.order_by("country", "name"):
        table.add_row(str(partner.node_id), partner.country, partner.name, partner.endpoint,
                      partner.status, ", ".join(partner.allowed_types),
                      format_fingerprint(partner.fingerprint)[:19] + " …")
    Console(width=max(console.width, 200)).print(table)


@partner_app.command("allow")
def partner_allow(
    partner: Annotated[str, typer.Argument(help="Node id (or country, if only one).")],
    types: Annotated[str, typer.Option(help="Comma-separated message types.")],
) -> None:
    """Set the message types exchanged with a partner (replaces the list)."""
    _setup()
    from opennrm.transnational import services

    found = _trm_call(services.find_partner, partner)
    found = _trm_call(services.allow_types, None, found,
                      [t.strip() for t in types.split(",") if t.strip()])
    console.print(f"{found}: {', '.join(found.allowed_types)}")


def _partner_status(partner: str, status: str, reason: str) -> None:
    _setup()
    from opennrm.transnational import services

    found = _trm_call(services.find_partner, partner)
    services.set_partner_status(None, found, status, reason)
    console.print(f"{found}: {status}")


@partner_app.command("suspend")
def partner_suspend(partner: str,
                    reason: Annotated[str, typer.Option(help="Why.")] = "") -> None:
    """Suspend exchange with a partner: its messages are refused, none are sent to it."""
    _partner_status(partner, "suspended", reason)


@partner_app.command("resume")
def partner_resume(partner: str,
                   reason: Annotated[str, typer.Option(help="Why.")] = "") -> None:
    """Resume exchange with a suspended partner."""
    _partner_status(partner, "active", reason)


@trm_app.command("worker")
def trm_worker(
    poll: Annotated[float, typer.Option(help="Seconds between looks when not woken.")] = 1.0,
    threads: Annotated[int, typer.Option(help="Deliveries in parallel.")] = 8,
) -> None:
    """Deliver the outbox (backoff, sweeper of dead workers' claims), until stopped."""
    _setup(serves_requests=True)
    from opennrm.transnational.delivery import run_worker

    run_worker(poll=poll, threads=threads)


@trm_app.command("ping")
def trm_ping(
    partner: Annotated[str, typer.Argument(help="Node id (or country, if only one).")],
    text: str = "ping",
) -> None:
    """Send a ping to a partner (it answers with a pong) and wait for its receipt."""
    _setup(serves_requests=True)
    from opennrm.transnational import services
    from opennrm.transnational.delivery import wait_for_deliveries

    found = _trm_call(services.find_partner, partner)
    message = _trm_call(services.send_message, None, found, "ping", {"text": text})
    wait_for_deliveries()
    message.refresh_from_db()
    console.print(f"{message.message_id}: {message.status} {message.reason_code} "
                  f"{message.reason_text}".rstrip())


@trm_app.command("log")
def trm_log(
    direction: Annotated[str, typer.Option(help="out, in or both.")] = "",
    status: Annotated[str, typer.Option(help="Only this state.")] = "",
    limit: int = 50,
) -> None:
    """The message log: messages sent and received, with their delivery state."""
    _setup()
    from opennrm.transnational.services import message_log

    outbox, inbox = message_log(None, "" if direction == "both" else direction, status)
    table = Table(title="Transnational messages")
    for column in ("dir", "time (UTC)", "partner", "type", "message id", "state", "attempts",
                   "reason"):
        table.add_column(column)
    rows = [("out", m.created_at, m.partner.country, m.message_type, str(m.message_id),
             m.status, str(m.attempts), f"{m.reason_code} {m.reason_text}".strip())
            for m in outbox[:limit]]
    rows += [("in", m.received_at, m.partner.country if m.partner else "?", m.message_type,
              str(m.message_id or m.claimed_message_id), m.status, "",
              f"{m.reason_code} {m.reason_text}".strip()) for m in inbox[:limit]]
    for row in sorted(rows, key=lambda r: r[1], reverse=True)[:limit]:
        table.add_row(row[0], row[1].strftime("%Y-%m-%d %H:%M:%S"), *row[2:])
    Console(width=max(console.width, 200)).print(table)


@trm_app.command("evidence")
def trm_evidence(
    message_id: str,
    output: Annotated[str | None, typer.Option(help="Write it to this file.")] = None,
) -> None:
    """Export a message's evidence: the signed message and the signed receipt(s)."""
    _setup()
    import json

    from opennrm.transnational.models import OutboxMessage
    from opennrm.transnational.services import evidence

    try:
        found = evidence(None, message_id)
    except (ValueError, OutboxMessage.DoesNotExist):
        _fail(f"no message {message_id}")
    text = json.dumps(found, indent=2)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        console.print(f"Evidence written to {output}")
    else:
        print(text)


@trm_app.command("retry")
def trm_retry(message_id: str) -> None:
    """Queue a failed or abandoned delivery again."""
    _setup()
    from opennrm.transnational import services
    from opennrm.transnational.models import OutboxMessage

    message = OutboxMessage.objects.filter(message_id=message_id).first()
    if message is None:
        _fail(f"no message {message_id} was sent")
    message = _trm_call(services.retry, None, message)
    console.print(f"{message.message_id}: {message.status}")


@trm_app.command("abandon")
def trm_abandon(message_id: str,
                reason: Annotated[str, typer.Option(help="Why.")] = "") -> None:
    """Stop trying to deliver a failed or queued message."""
    _setup()
    from opennrm.transnational import services
    from opennrm.transnational.models import OutboxMessage

    message = OutboxMessage.objects.filter(message_id=message_id).first()
    if message is None:
        _fail(f"no message {message_id} was sent")
    message = _trm_call(services.abandon, None, message, reason)
    console.print(f"{message.message_id}: {message.status}")


@app.command("demo-network")
def demo_network(
    countries: Annotated[str, typer.Option(help="Comma-separated ISO 3166 codes, one node "
                                                "each.")] = "MD,UA,RO",
    scenario: Annotated[str, typer.Option(
        help="Run a scenario between the first two nodes, print each step and exit (non-zero "
             "if a step fails): ping or referral.")] = "",
    demo_cases: Annotated[int, typer.Option(help="Demo cases loaded on each node.")] = 30,
    keep: Annotated[bool, typer.Option(help="Keep the nodes' folder (logs, key rings, "
                                            "SQLite files) afterwards.")] = False,
) -> None:
    """Start one throw-away node per country on loopback (own database, key ring, server and
    worker; one on PostgreSQL when DATABASE_URL points to one), exchange their cards and
    print their addresses and logins; Ctrl+C ends them all."""
    from opennrm.transnational import network

    if scenario and scenario not in network.SCENARIOS:
        _fail(f"unknown scenario {scenario!r} (known: {', '.join(network.SCENARIOS)})")
    try:
        with network.DemoNetwork(countries.split(","),
                                 database_url=os.environ.get("DATABASE_URL", ""),
                                 demo_cases=demo_cases, keep=keep,
                                 say=lambda text: print(text, flush=True)) as net:
            print(net.describe(), flush=True)
            if scenario:
                first, second = net.nodes[:2]
                print(f"\nScenario {scenario}: {first.country} → {second.country}", flush=True)
                ok = network.run_steps(network.SCENARIOS[scenario](first, second),
                                       say=lambda text: print(text, flush=True))
                print("Scenario " + ("completed." if ok else "FAILED."), flush=True)
                if not ok:
                    raise typer.Exit(1)
            else:
                print("\nThe nodes are up; Ctrl+C ends them.", flush=True)
                network.wait_for_interrupt()
    except network.NetworkError as error:
        _fail(str(error))
    finally:
        print("Stopped every node.", flush=True)


# --- transnational referral workflows (docs/transnational.md, "Workflows") -------------------

TrmUser = Annotated[str, typer.Option("--as", help="The user who acts (audited as them).")]


def _trm_user(username: str):
    from opennrm.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        _fail(f"no active user {username!r}")
    return user


def _workflow_call(function, *args, **kwargs):
    from django.core.exceptions import PermissionDenied, ValidationError

    from opennrm.cases.access import CaseAccessDenied, CaseNotFound

    try:
        return _trm_call(function, *args, **kwargs)
    except ValidationError as error:
        for field, messages in getattr(error, "message_dict", {"": error.messages}).items():
            for message in messages:
                console.print(f"[red]{field}:[/red] {message}")
        raise typer.Exit(1) from None
    except (PermissionDenied, CaseAccessDenied, CaseNotFound) as error:
        _fail(str(error) or "not allowed")


def _codes(text: str) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


@trm_app.command("offer")
def trm_offer(
    case_number: str,
    partner: Annotated[str, typer.Argument(help="Node id (or country, if only one).")],
    as_user: TrmUser,
    stage: Annotated[str, typer.Option(help="identification, first_assistance, "
                                            "long_term_assistance, return, proceedings")],
    mode: Annotated[str, typer.Option(help="handover or shared")],
    services: Annotated[str, typer.Option(help="Service types asked, comma-separated.")],
    urgency: Annotated[str, typer.Option(help="routine, urgent or emergency")] = "routine",
    share: Annotated[str, typer.Option(help="Fields shared on acceptance, comma-separated.")]
    = "",
    risk_assessment: Annotated[str, typer.Option(help="The joint risk assessment (return).")]
    = "",
) -> None:
    """Offer a case to a partner node (only the pseudonymised preview is sent)."""
    _setup(serves_requests=True)
    from opennrm.cases import access as case_access
    from opennrm.transnational import services as trm_services
    from opennrm.transnational import workflows

    user = _trm_user(as_user)
    case = _workflow_call(case_access.get_visible_case, user, case_number)
    found = _trm_call(trm_services.find_partner, partner)
    referral = _workflow_call(workflows.offer_transnational_referral, user, case, found, stage,
                              mode, _codes(share), _codes(services), urgency, risk_assessment)
    console.print(f"referral {referral.pk}: offered to {found.country} "
                  f"(message {referral.offer_message_id})")


def _incoming(user, referral_id: str):
    from opennrm.transnational import workflows

    try:
        return workflows.get_referral(user, int(referral_id))
    except (ValueError, workflows.Referral.DoesNotExist):
        _fail(f"no transnational referral {referral_id} for {user.username}")


@trm_app.command("accept")
def trm_accept(referral_id: str, as_user: TrmUser,
               agency: Annotated[str, typer.Option(help="Code of the agency assigned.")],
               note: str = "") -> None:
    """The focal point accepts an incoming referral and assigns a local agency."""
    _setup(serves_requests=True)
    from opennrm.accounts.models import Agency
    from opennrm.transnational import workflows

    user = _trm_user(as_user)
    referral = _incoming(user, referral_id)
    assigned = Agency.objects.filter(code=agency, is_active=True).first()
    _workflow_call(workflows.accept_referral, user, referral, assigned, note)
    console.print(f"referral {referral.pk}: accepted, assigned to {agency}")


@trm_app.command("decline")
def trm_decline(referral_id: str, as_user: TrmUser,
                reason: Annotated[str, typer.Option(help="Why (sent to the partner).")]) -> None:
    """The focal point declines an incoming referral with a reason."""
    _setup(serves_requests=True)
    from opennrm.transnational import workflows

    user = _trm_user(as_user)
    referral = _incoming(user, referral_id)
    _workflow_call(workflows.decline_referral, user, referral, reason)
    console.print(f"referral {referral.pk}: declined")


@trm_app.command("status")
def trm_status(referral_id: str, status: str, as_user: TrmUser, note: str = "") -> None:
    """Send a status update of a referral (assistance_started, return_date_set, arrived…)."""
    _setup(serves_requests=True)
    from opennrm.transnational import workflows

    user = _trm_user(as_user)
    referral = _incoming(user, referral_id)
    message = _workflow_call(workflows.send_status_update, user, referral, status, note)
    console.print(f"referral {referral.pk}: {status} sent (message {message.message_id})")


@trm_app.command("correct")
def trm_correct(
    case_number: str,
    as_user: TrmUser,
    set_: Annotated[list[str], typer.Option(
        "--set", help="FIELD=VALUE, repeated (a list comma-separated; identity_documents as "
                      "JSON).")],
) -> None:
    """Correct shared data of a case: the case is updated and the corrected shared fields go
    to every node that received it."""
    _setup(serves_requests=True)
    from opennrm.cases import access as case_access
    from opennrm.transnational import workflows

    user = _trm_user(as_user)
    values = {}
    for item in set_:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--set {item!r}: give FIELD=VALUE")
        values[name.strip()] = value
    changes = _workflow_call(workflows.correction_changes, values)
    case = _workflow_call(case_access.get_visible_case, user, case_number)
    sent = _workflow_call(workflows.correct_shared_data, user, case, changes, channel="cli")
    console.print(f"case {case.case_number}: corrected; sent to {len(sent)} partner node(s)"
                  + "".join(f"\n  message {m.message_id}" for m in sent))


@trm_app.command("referrals")
def trm_referrals(as_user: TrmUser) -> None:
    """The transnational referrals the user may see, with their state."""
    _setup()
    from opennrm.transnational import workflows

    user = _trm_user(as_user)
    table = Table(title="Transnational referrals")
    for column in ("id", "dir", "partner", "global case id", "stage", "mode", "state",
                   "case", "agency"):
        table.add_column(column)
    for r in workflows.visible_referrals(user):
        table.add_row(str(r.pk), r.direction, r.partner.country, str(r.global_case_id),
                      r.stage, r.mode, r.status, r.case.case_number if r.case else "",
                      r.agency.code if r.agency else "")
    Console(width=max(console.width, 200)).print(table)


# --- partners as witnesses of the audit trail (docs/transnational.md) -----------------------

@trm_app.command("send-checkpoint")
def trm_send_checkpoint() -> None:
    """Send this node's signed audit checkpoint to every active partner now (the newest one
    if nothing was appended since; `opennrm worker` sends one every hour)."""
    _setup()
    from opennrm.transnational import witness
    from opennrm.transnational.delivery import wait_for_deliveries

    checkpoint, messages = _trm_call(witness.send_checkpoint, None)
    wait_for_deliveries()
    console.print(f"Checkpoint at entry {checkpoint.sequence} (key {checkpoint.key_id}) "
                  f"queued to {len(messages)} partner node(s).")
    for message in messages:
        message.refresh_from_db()
        console.print(f"  {message.partner.country} {message.partner.name}: {message.status} "
                      f"{message.reason_code}".rstrip())


@trm_app.command("witnessed")
def trm_witnessed(
    partner: Annotated[str | None, typer.Option(
        help="Only this partner (node id, or country if only one).")] = None,
    output: Annotated[str | None, typer.Option(
        help="Write the partner's checkpoints to this file, one a line: the file its "
             "administrator checks with `opennrm audit verify --checkpoint FILE`.")] = None,
    limit: Annotated[int, typer.Option(help="Newest checkpoints listed (and every "
                                            "conflicting one).")] = 50,
) -> None:
    """The partners' audit checkpoints this node keeps as their witness, conflicts (a
    partner's trail rewritten or cut) first; or, with --output, one partner's as a file."""
    _setup()
    from pathlib import Path

    from opennrm.transnational import services, witness

    found = _trm_call(services.find_partner, partner) if partner else None
    if output:
        if found is None:
            _fail("give --partner: a checkpoint file holds one node's checkpoints")
        tokens = witness.witnessed_tokens(None, found)
        Path(output).write_text("".join(token + "\n" for token in tokens), encoding="ascii")
        console.print(f"{len(tokens)} checkpoint(s) of {found} written to {output}.")
        return
    table = Table(title="Audit checkpoints witnessed for partner nodes")
    for column in ("partner", "entry", "signed (UTC)", "key", "received (UTC)", "conflict"):
        table.add_column(column)
    kept = witness.witnessed(None, found)
    conflicts = list(kept.exclude(conflict=""))
    for row in conflicts + list(kept.filter(conflict="")[:limit]):
        table.add_row(row.partner.country, str(row.sequence),
                      row.signed_at.strftime("%Y-%m-%d %H:%M:%S"), row.key_id,
                      row.received_at.strftime("%Y-%m-%d %H:%M:%S"), row.conflict,
                      style="bold red" if row.conflict else None)
    Console(width=max(console.width, 200)).print(table)
    if conflicts:
        console.print(f"[bold red]{len(conflicts)} conflicting checkpoint(s):[/bold red] a "
                      "partner's audit trail was rewritten or cut; tell its administrator.")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command (e.g. `opennrm manage check --deploy`)."""
    _setup(serves_requests=True)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["opennrm manage", *ctx.args])


def _with_validation(function, **kwargs):
    from django.core.exceptions import ValidationError

    try:
        return function(**kwargs)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            for message in messages:
                console.print(f"[red]{field}:[/red] {message}")
        raise typer.Exit(1) from None


# --- persons (the name-token index of the person search, docs/person-search.md) ------------

persons_app = typer.Typer(help="Persons: the blind-indexed name tokens the search uses.",
                          no_args_is_help=True)
app.add_typer(persons_app, name="persons")


@persons_app.command("reindex")
def persons_reindex() -> None:
    """Rebuild the name-token index from the encrypted names (after an upgrade that adds
    token kinds, or a key rotation); audited. Every person is decrypted once, in batches."""
    _setup()
    from opennrm.cases.person_search import reindex_persons

    count = reindex_persons(_system_actor(), "cli",
                            progress=lambda done: console.print(f"{done} persons indexed"))
    console.print(f"Index rebuilt: {count} persons.")


# --- linkage (deduplicating and linking registers in CSV files, docs/linkage.md) -----------

linkage_app = typer.Typer(help="Record linkage: count every person once across registers "
                               "(CSV files; no database needed).", no_args_is_help=True)
app.add_typer(linkage_app, name="linkage")

LinkageIdColumn = Annotated[str, typer.Option("--id-column", help="The column of record ids.")]
LinkageMap = Annotated[str, typer.Option(
    "--map", help="FIELD=COLUMN, comma-separated; fields: given_name, family_name, "
                  "birth_date, sex, citizenship, place_of_birth, phone, document_number.")]
LinkageThreshold = Annotated[float | None, typer.Option(
    help="Match probability at which two records are one person (default: the model's).")]
LinkagePairs = Annotated[str | None, typer.Option(
    help="Also write the scored pairs (match probability and weight) to this CSV file.")]
LinkageTruth = Annotated[str | None, typer.Option(
    help="A column whose equal values mark the same person: print precision, recall and F1 "
         "of pairs.")]
LinkageOutput = Annotated[str | None, typer.Option(
    help="Write the clusters to this CSV file (default: standard output).")]
LinkageSparkMaster = Annotated[str | None, typer.Option(
    help="Run on Splink's Spark backend at this Spark master URL (local[2], spark://host:7077, "
         "yarn, k8s://...) instead of DuckDB; needs the 'spark' extra and Java "
         "(docs/linkage-spark.md).")]
LinkageCheckpoints = Annotated[str | None, typer.Option(
    help="Spark's checkpoint directory, on storage every executor reaches (required for a "
         "cluster master).")]


def _linkage_run(method: str, spark_master: str | None, checkpoint_dir: str | None,
                 *args, **kwargs):
    """`register.<method>` on DuckDB, or its Spark twin when a Spark master is given."""
    from opennrm.linkage import register

    if not spark_master:
        return getattr(register, method)(*args, **kwargs)
    try:
        from opennrm.linkage import spark
    except ImportError as error:
        _fail(f"the Spark backend needs the 'spark' extra (pip install 'opennrm[spark]'): "
              f"{error}")
    session = spark.spark_session(spark_master, checkpoint_dir=checkpoint_dir)
    try:
        run = spark.dedupe_on_spark if method == "dedupe" else spark.link_on_spark
        return run(*args, spark=session, **kwargs)
    finally:
        session.stop()


def _linkage_report(result, truth_column: str | None) -> None:
    report = Console(stderr=True, soft_wrap=True)
    for item in result.unreadable:
        where = f"{item.source}: " if item.source else ""
        record = f" (record {item.record_id})" if item.record_id else ""
        report.print(f"[yellow]{where}line {item.line}{record}:[/yellow] {item.reason}",
                     markup=True, highlight=False)
    clusters = len(set(result.clusters.values()))
    report.print(f"{len(result.clusters)} records read, {len(result.unreadable)} unreadable "
                 f"(left out); {clusters} persons at threshold {result.threshold} "
                 f"(model version {result.model_version}, "
                 f"{'trained on this data' if result.trained else 'parameters of the model file'}"
                 ").", highlight=False)
    if truth_column:
        quality = result.quality()
        if quality is None:
            report.print(f"No record has a value in {truth_column!r}: no figures.")
        else:
            report.print(f"Pairs against {truth_column!r}: precision {quality.precision:.4f}, "
                         f"recall {quality.recall:.4f}, F1 {quality.f1:.4f} "
                         f"({quality.true_positives} found, {quality.false_positives} wrong, "
                         f"{quality.false_negatives} missed).", highlight=False)


def _linkage_write(path: str | None, header: list[str], rows) -> None:
    import csv

    handle = open(path, "w", encoding="utf-8", newline="") if path else sys.stdout
    try:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    finally:
        if path:
            handle.close()


def _linkage_pairs(path: str | None, result, with_sources: bool) -> None:
    if not path:
        return
    header = ["record_id_1", "record_id_2", "match_probability", "match_weight"]
    if with_sources:
        header = ["source_1", "record_id_1", "source_2", "record_id_2", *header[2:]]
    rows = ([p.source_1, p.record_id_1, p.source_2, p.record_id_2] if with_sources
            else [p.record_id_1, p.record_id_2] for p in result.pairs)
    _linkage_write(path, header, (
        [*ids, f"{pair.match_probability:.6f}", f"{pair.match_weight:.3f}"]
        for ids, pair in zip(rows, result.pairs, strict=True)))


@linkage_app.command("dedupe")
def linkage_dedupe(input_csv: Annotated[str, typer.Argument(metavar="INPUT.csv")],
                   id_column: LinkageIdColumn, map_: LinkageMap,
                   threshold: LinkageThreshold = None, pairs: LinkagePairs = None,
                   truth_column: LinkageTruth = None, output: LinkageOutput = None,
                   spark_master: LinkageSparkMaster = None,
                   checkpoint_dir: LinkageCheckpoints = None) -> None:
    """Find the records of one register that are the same person: writes
    record_id,cluster_id for every readable record."""
    from opennrm.linkage import register

    try:
        mapping = register.parse_mapping(map_)
        records = register.read_register(input_csv, id_column, mapping, truth_column)
        result = _linkage_run("dedupe", spark_master, checkpoint_dir, records, threshold)
    except register.RegisterError as error:
        _fail(str(error))
    _linkage_write(output, ["record_id", "cluster_id"],
                   ([record_id, cluster] for (_, record_id), cluster in result.clusters.items()))
    _linkage_pairs(pairs, result, with_sources=False)
    _linkage_report(result, truth_column)


@linkage_app.command("link")
def linkage_link(left_csv: Annotated[str, typer.Argument(metavar="LEFT.csv")],
                 right_csv: Annotated[str, typer.Argument(metavar="RIGHT.csv")],
                 id_column: LinkageIdColumn, map_: LinkageMap,
                 threshold: LinkageThreshold = None, pairs: LinkagePairs = None,
                 truth_column: LinkageTruth = None, output: LinkageOutput = None,
                 spark_master: LinkageSparkMaster = None,
                 checkpoint_dir: LinkageCheckpoints = None) -> None:
    """Find the records of two registers (same columns) that are the same person: writes
    source,record_id,cluster_id for every readable record, cluster ids shared by both."""
    from pathlib import Path

    from opennrm.linkage import register

    sources = (Path(left_csv).name, Path(right_csv).name)
    if sources[0] == sources[1]:
        sources = (left_csv, right_csv) if left_csv != right_csv else ("left", "right")
    try:
        mapping = register.parse_mapping(map_)
        left = register.read_register(left_csv, id_column, mapping, truth_column)
        right = register.read_register(right_csv, id_column, mapping, truth_column)
        result = _linkage_run("link", spark_master, checkpoint_dir, left, right, threshold,
                              sources=sources)
    except register.RegisterError as error:
        _fail(str(error))
    _linkage_write(output, ["source", "record_id", "cluster_id"],
                   ([source, record_id, cluster]
                    for (source, record_id), cluster in result.clusters.items()))
    _linkage_pairs(pairs, result, with_sources=True)
    _linkage_report(result, truth_column)


def main() -> None:
    app(prog_name="opennrm")


if __name__ == "__main__":
    sys.exit(main())

