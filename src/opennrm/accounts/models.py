import functools
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

from opennrm.core import codelists
from opennrm.core.roles import Role  # in core for the access rules, imported from here too


class Agency(models.Model):
    """An organisation that takes part in the NRM (an NGO, a police unit, …)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    agency_type = models.CharField(max_length=40, choices=codelists.choices("agency_types"))
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, related_name="users")
    role = models.CharField(max_length=30, choices=Role.choices, default=Role.CASEWORKER)

    def __str__(self) -> str:
        return self.username


def default_token_lifetime() -> timedelta:
    """How long a new API token works unless told otherwise (settings.OPENNRM_API_TOKEN_DAYS)."""
    return timedelta(days=settings.OPENNRM_API_TOKEN_DAYS)


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 digest is stored; the secret is shown once.

    Every token expires; a read-only one may only read (see `api.auth`).
    """

    PREFIX = "onrm_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    read_only = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @staticmethod
    def digest_of(secret: str) -> str:
        # Tokens are 256-bit random values, so a fast hash is enough (no dictionary to try).
        return hashlib.sha256(secret.encode("utf-8")).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str, expires_at=None,
              read_only: bool = False) -> tuple["ApiToken", str]:
        """A new token and its secret; it expires at `expires_at`, by default after
        `default_token_lifetime()`."""
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        if expires_at is None:
            expires_at = timezone.now() + default_token_lifetime()
        token = cls.objects.create(user=user, name=name, digest=cls.digest_of(secret),
                                   expires_at=expires_at, read_only=read_only)
        return token, secret

    @classmethod
    def find(cls, secret: str) -> "ApiToken | None":
        """The token with this secret, its user loaded, or None.

        Every API request runs this, so it is one statement written in SQL: building the
        same join with the ORM cost more CPU than the database took to answer it.
        """
        db = connections[DEFAULT_DB_ALIAS]
        with db.cursor() as cursor:
            cursor.execute(_token_holder_sql(), [cls.digest_of(secret)])
            row = cursor.fetchone()
        if row is None:
            return None
        values = [_from_db(db, field, value) for field, value in zip(_holder_fields(), row,
                                                                       strict=True)]
        user_fields = User._meta.concrete_fields
        user = User.from_db(db.alias, [f.attname for f in user_fields],
                            values[:len(user_fields)])
        token = cls.from_db(db.alias, [f.attname for f in cls._meta.concrete_fields],
                            values[len(user_fields):])
        token.user = user
        return token

    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and self.expires_at > now


@functools.cache
def _holder_fields() -> tuple:
    """The columns `_token_holder_sql` reads, in order: the user's, then the token's."""
    return (*User._meta.concrete_fields, *ApiToken._meta.concrete_fields)


@functools.cache
def _token_holder_sql() -> str:
    quote = connection.ops.quote_name
    user, token = User._meta, ApiToken._meta
    columns = ", ".join([*(f"u.{quote(field.column)}" for field in user.concrete_fields),
                         *(f"t.{quote(field.column)}" for field in token.concrete_fields)])
    return (f"SELECT {columns} FROM {quote(user.db_table)} u "
            f"INNER JOIN {quote(token.db_table)} t ON t.{quote(token.get_field('user').column)}"
            f" = u.{quote(user.pk.column)} WHERE t.{quote(token.get_field('digest').column)}"
            " = %s")


def _from_db(db, field, value):
    """A value read by hand in SQL, converted as the ORM converts it (SQLite's dates)."""
    for convert, column in _converters(db.vendor, field):
        value = convert(value, column, db)
    return value


@functools.cache
def _converters(vendor: str, field) -> list:
    """What the ORM applies to a value of `field` read from the database (`vendor`'s)."""
    db = connections[DEFAULT_DB_ALIAS]
    column = field.get_col(field.model._meta.db_table)
    return [(convert, column)
            for convert in db.ops.get_db_converters(column) + column.get_db_converters(db)]
