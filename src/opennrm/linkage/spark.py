"""The linkage model on Splink's Spark backend: the scale path for a regional hub whose
registers hold tens of millions of records (docs/linkage-spark.md).

The model, the normalisation and the result are those of `register.dedupe` and
`register.link`; only the SQL engine that generates, scores and clusters the pairs changes.
Two things differ from DuckDB:

* The model's SQL conditions are written for DuckDB. Splink translates a condition only
  when it declares its dialect, with sqlglot, which spells two of the model's functions
  wrongly for Spark. So `spark_model` translates them itself with sqlglot and fixes those
  two (`SPARK_FUNCTIONS`).
* pyspark is an optional extra: it is imported only when a session is built or a run
  starts, so `spark_model` works without it.
* Spark has no Jaro-Winkler or Damerau-Levenshtein of its own: Splink ships them in a jar
  (`splink.backends.spark.similarity_jar_location()`), which must be on `spark.jars`
  before the session starts. `spark_session` puts it there.
"""

import atexit
import copy
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date

import sqlglot
from sqlglot import exp

from opennrm.linkage.register import LinkageResult, RegisterError, dedupe, link, load_model

# DuckDB functions of the model that sqlglot writes in a form Spark SQL does not accept, by
# sqlglot's expression name, and the Spark function to use. sqlglot writes `list_has_any`
# as the `&&` operator (Spark SQL has none) and `jaro_winkler_similarity` as
# `JAROWINKLER_SIMILARITY`, while Splink's jar registers `jaro_winkler`. Everything else
# sqlglot translates to what Spark accepts: `damerau_levenshtein` keeps its name (the jar
# registers it), `date_diff('day', …)` becomes `DATEDIFF(DAY, …)` (Spark 3.3 and later).
SPARK_FUNCTIONS = {
    "ArrayOverlaps": "arrays_overlap",
    "JarowinklerSimilarity": "jaro_winkler",
}

# Small data on one machine (tests, trials; a large register on one machine is DuckDB's
# job): few shuffle partitions (Spark's default of 200 makes every step of a small run wait
# for 200 tasks), a JVM that compiles less (the quick C1 compiler only: a run of a few
# hundred records took 13 s instead of 28 s on this shared machine), no web UI, no progress bars.
LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.driver.memory": "1g",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def to_spark_sql(condition: str) -> str:
    """A DuckDB SQL condition of the model in Spark SQL."""
    def respell(node):
        name = SPARK_FUNCTIONS.get(type(node).__name__)
        if name is None:
            return node
        return exp.Anonymous(this=name, expressions=[node.this, node.expression])

    return sqlglot.parse_one(condition, read="duckdb").transform(respell).sql(dialect="spark")


def spark_model(model: Mapping | None = None) -> dict:
    """A copy of the model (the file's when None) whose comparison levels, blocking rules
    and training rules are Spark SQL. Parameters, labels and version stay as they are."""
    translated = copy.deepcopy(dict(model or load_model()))
    settings = translated["splink"]
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level["sql_condition"] != "ELSE":
                level["sql_condition"] = to_spark_sql(level["sql_condition"])
    settings["blocking_rules_to_generate_predictions"] = [
        to_spark_sql(rule) if isinstance(rule, str)
        else {**rule, "blocking_rule": to_spark_sql(rule["blocking_rule"])}
        for rule in settings["blocking_rules_to_generate_predictions"]]
    training = translated["training"]
    for rules in ("deterministic_rules", "em_blocking_rules"):
        training[rules] = [to_spark_sql(rule) for rule in training[rules]]
    return translated


def spark_session(master: str = "local[2]", *, checkpoint_dir: str | None = None,
                  app_name: str = "opennrm-linkage", **conf: str):
    """A SparkSession with Splink's similarity functions on `spark.jars`.

    `master` is a Spark master URL: `local[N]` runs on this machine with N threads and
    `LOCAL_CONF`; `spark://host:7077`, `yarn` or `k8s://…` a cluster, with Spark's own
    defaults. `conf` takes Spark properties by their names, e.g.
    `**{"spark.executor.memory": "8g"}`, and wins over the defaults. Splink writes its
    intermediate tables as Parquet under `checkpoint_dir`, which on a cluster must be a
    directory every executor reaches (HDFS, S3); locally a temporary directory is used and
    removed when Python exits."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    local = master.startswith("local")
    if checkpoint_dir is None and not local:
        raise RegisterError("on a cluster, give a checkpoint directory that every executor "
                            "can reach (hdfs://…, s3a://…)")
    settings = {**(LOCAL_CONF if local else {}), **conf}
    jars = [similarity_jar_location(), *filter(None, settings.pop("spark.jars", "").split(","))]
    builder = SparkSession.builder.master(master).appName(app_name)
    for name, value in {**settings, "spark.jars": ",".join(jars)}.items():
        builder = builder.config(name, value)
    spark = builder.getOrCreate()
    if checkpoint_dir is None:
        checkpoint_dir = tempfile.mkdtemp(prefix="opennrm-spark-")
        atexit.register(shutil.rmtree, checkpoint_dir, ignore_errors=True)
    spark.sparkContext.setCheckpointDir(checkpoint_dir)
    return spark


def _spark_api(spark):
    """Splink's SparkAPI for one run. `register` names its input tables `register_0`,
    `register_1`, which in a Spark session outlive the run: this API gives them names of
    their own, so that one session serves many runs, and `drop_tables` removes them with
    the tables Splink made."""
    from splink.backends.spark import SparkAPI

    class RunOnSpark(SparkAPI):
        def __init__(self):
            super().__init__(spark_session=spark)
            self.run = uuid.uuid4().hex[:12]
            self.inputs: list[str] = []

        def register(self, table, *, dataset_display_name=None, table_name=None):
            if table_name is not None:
                table_name = f"opennrm_{self.run}_{table_name}"
                self.inputs.append(table_name)
            return super().register(table, dataset_display_name=dataset_display_name,
                                    table_name=table_name)

        def drop_tables(self):
            self.delete_tables_created_by_splink_from_db()
            for name in self.inputs:
                spark.catalog.dropTempView(name)

    api = RunOnSpark()  # registers the jar's functions, or only warns when it cannot
    if not spark.catalog.functionExists("jaro_winkler"):
        raise RegisterError("the Spark session has no jaro_winkler: put Splink's jar "
                            "(splink.backends.spark.similarity_jar_location()) on spark.jars "
                            "before the session starts, or use linkage.spark.spark_session")
    return api


def _on_spark(run: Callable[..., LinkageResult], spark, model: Mapping | None,
              **arguments) -> LinkageResult:
    own_session = spark is None
    spark = spark or spark_session()
    try:
        api = _spark_api(spark)
        try:
            return run(model=spark_model(model), db_api=api, **arguments)
        finally:
            api.drop_tables()
    finally:
        if own_session:
            spark.stop()


def dedupe_on_spark(records: Iterable[Mapping], threshold: float | None = None, *,
                    spark=None, model: Mapping | None = None, source: str = "",
                    today: date | None = None, explain: bool = False) -> LinkageResult:
    """`register.dedupe` on Spark. `spark`: a session from `spark_session` (or one with
    Splink's jar on `spark.jars`); without it a local session is started for this run and
    stopped after it, which costs the start of a JVM."""
    return _on_spark(dedupe, spark, model, records=records, threshold=threshold,
                     source=source, today=today, explain=explain)


def link_on_spark(left: Iterable[Mapping], right: Iterable[Mapping],
                  threshold: float | None = None, *, spark=None, model: Mapping | None = None,
                  sources: tuple[str, str] = ("left", "right"), today: date | None = None,
                  explain: bool = False) -> LinkageResult:
    """`register.link` on Spark; `spark` as in `dedupe_on_spark`."""
    return _on_spark(link, spark, model, left=left, right=right, threshold=threshold,
                     sources=sources, today=today, explain=explain)
