"""Helper of bench_node.py, run as a subprocess in the node's environment.

Prints JSON: persons to search for (names decrypted from a random sample of the caller's
agency's cases) and the SQL the API emits for the case list and for the exact-name
search, captured from one in-process request each, so that the benchmark can time the
same SQL directly against PostgreSQL:

* `list_sql`: the list's statements on cases_case (the count and the page);
* `search_sql`: the search's blind-index lookup, with the blind index as `%s`;
* `list_request_sql`, `search_request_sql`: every statement each request ran, in order, as
  captured (the token lookup, and for the search BEGIN … COMMIT of its audit append).

Usage: python benchmarks/probe_queries.py USERNAME TOKEN SAMPLES
"""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from opennrm.accounts.models import User  # noqa: E402
from opennrm.cases.models import Person  # noqa: E402


def sample_persons(user: User, count: int) -> list[dict]:
    persons = (Person.objects.filter(cases__owner_agency_id=user.agency_id)
               .exclude(birth_date="").exclude(name_index="").order_by("?")[:count])
    return [{"given_name": p.given_name, "family_name": p.family_name,
             "birth_date": p.birth_date, "name_index": p.name_index} for p in persons]


def captured(client: Client, path: str, params: dict, token: str, post: bool = False
             ) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        if post:
            response = client.post(path, params, content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {token}")
        else:
            response = client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    return [query["sql"] for query in context.captured_queries]


def main() -> None:
    username, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    user = User.objects.get(username=username)
    targets = sample_persons(user, count)
    client = Client(HTTP_HOST="127.0.0.1")
    list_request = captured(client, "/api/cases", {"page": 1, "page_size": 50}, token)
    list_sql = [sql for sql in list_request
                if '"cases_case"' in sql and "api_token" not in sql]
    target = targets[0]
    search = captured(client, "/api/cases/search",
                      {k: target[k] for k in ("given_name", "family_name", "birth_date")},
                      token, post=True)
    lookup = [sql for sql in search if target["name_index"] in sql]
    if len(lookup) != 1:
        raise SystemExit(f"expected one blind-index query, found {len(lookup)}: {search}")
    # A psycopg query with one parameter: the blind index of the person searched for.
    search_sql = lookup[0].replace("%", "%%").replace(f"'{target['name_index']}'", "%s")
    json.dump({"targets": targets, "list_sql": list_sql, "search_sql": search_sql,
               "list_request_sql": list_request, "search_request_sql": search}, sys.stdout)


if __name__ == "__main__":
    main()
