"""What the benchmarks share: their common command-line options, where results go, and how
a loader stores an encrypted value as the ORM would.

The benchmarks are scripts run from the repository (`python benchmarks/bench_node.py`), so
they import this module by its name, beside them.
"""

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SEED = 2026


def database_url(name: str) -> str:
    """The default URL of a benchmark's own PostgreSQL database (dropped and recreated)."""
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of the benchmark's docstring."""
    return argparse.ArgumentParser(description=doc.split("\n\n")[0])


def add_load_options(parser: argparse.ArgumentParser, *, cases: int, database: str,
                     reuse_help: str) -> None:
    """--cases, --database-url, --seed and --reuse: the data a benchmark loads, and where."""
    parser.add_argument("--cases", type=int, default=cases)
    parser.add_argument("--database-url", default=database_url(database))
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--reuse", action="store_true", help=reuse_help)


def add_repeat_option(parser: argparse.ArgumentParser,
                      help: str = "measure every level this many times; report the medians"
                      ) -> None:
    parser.add_argument("--repeat", type=int, default=3, help=help)


def add_server_options(parser: argparse.ArgumentParser, *, requests_help: str) -> None:
    """--requests, --warmup and gunicorn's workers and threads, for the benchmarks that
    start a node."""
    parser.add_argument("--requests", type=int, default=300, help=requests_help)
    parser.add_argument("--warmup", type=positive, default=40,
                        help="requests per endpoint that warm the workers and caches before "
                             "the measurements")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--gunicorn-threads", type=int, default=1)


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not at least 1")
    return number


def levels(text: str) -> list[int]:
    """"1,8,32" → [1, 8, 32]: the levels of concurrent clients."""
    return [int(level) for level in text.split(",")]


def encrypter(model, field: str, *, empty=None):
    """The function that stores a value of `model.field` as the ORM would (encrypted with
    the node's key ring); `empty` stands for a missing value in a column that needs one."""
    prepare = model._meta.get_field(field).get_prep_value
    if empty is None:
        return prepare
    return lambda value: prepare(value) or empty
