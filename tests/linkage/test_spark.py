"""The linkage model on Spark (local mode) finds what it finds on DuckDB: the same clusters,
the same pairs with the same probabilities, names compared by Jaro-Winkler through the jar
Splink ships. One Spark session serves the module (starting a JVM takes seconds)."""

import os
import shutil

import pytest

from opennrm.linkage.register import dedupe, link
from opennrm.linkage.synthetic import generate_register

pytestmark = pytest.mark.spark

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[spark]')")
if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
    pytest.skip("no Java runtime (apt-get install openjdk-17-jre-headless)",
                allow_module_level=True)

from opennrm.linkage.spark import (  # noqa: E402 (pyspark must be there first)
    dedupe_on_spark,
    link_on_spark,
    spark_session,
    to_spark_sql,
)

# The same person twice: the family names are one letter apart, so that they share no
# spelling and no sound key (sevsenko, sevsemko) and only Jaro-Winkler (0.95) joins them.
TYPO = [
    {"record_id": "jw-1", "given_name": "Oleksandr", "family_name": "Shevchenko",
     "birth_date": "1990-05-03", "sex": "M", "citizenship": "UA", "truth": "jw"},
    {"record_id": "jw-2", "given_name": "Oleksandr", "family_name": "Shevchemko",
     "birth_date": "03.05.1990", "sex": "M", "citizenship": "UA", "truth": "jw"},
]


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def records():
    """About 300 records of 250 persons in Latin and Cyrillic spellings, and the typo pair:
    under the 1,000 records from which the model trains, so both backends use the file's
    parameters and must agree exactly."""
    return generate_register(250, seed=19) + TYPO


@pytest.fixture(scope="module")
def on_duckdb(records):
    return dedupe(records, explain=True)


@pytest.fixture(scope="module")
def on_spark(spark, records):
    return dedupe_on_spark(records, spark=spark, explain=True)


def _pairs(result):
    return {(pair.record_id_1, pair.record_id_2): pair for pair in result.pairs}


def test_spark_finds_the_clusters_duckdb_finds(on_duckdb, on_spark):
    assert len(set(on_duckdb.clusters.values())) < len(on_duckdb.clusters)
    # Cluster ids are numbered in the order of the records: the same clusters, the same ids.
    assert on_spark.clusters == on_duckdb.clusters
    assert on_spark.quality() == on_duckdb.quality()
    assert on_spark.quality().f1 >= 0.95


def test_spark_scores_every_pair_as_duckdb_does(on_duckdb, on_spark):
    on_duckdb_pairs, on_spark_pairs = _pairs(on_duckdb), _pairs(on_spark)
    assert on_spark_pairs.keys() == on_duckdb_pairs.keys()
    for key, pair in on_spark_pairs.items():
        # The same levels; the weights summed in another order differ in the last bits.
        assert [field.level for field in pair.fields] == \
            [field.level for field in on_duckdb_pairs[key].fields], key
        assert pair.match_weight == pytest.approx(on_duckdb_pairs[key].match_weight, abs=1e-9)


def test_names_one_letter_apart_are_joined_by_jaro_winkler_on_spark(on_duckdb, on_spark):
    pair = _pairs(on_spark)[("jw-1", "jw-2")]
    family = next(field for field in pair.fields if field.comparison == "family_name")
    assert family.level == "Jaro-Winkler >= 0.92"
    assert family.match_weight > 0
    assert on_spark.clusters[("", "jw-1")] == on_spark.clusters[("", "jw-2")]


def test_link_on_spark_joins_across_registers_as_duckdb_does(spark, records):
    left, right = records[::2], records[1::2]
    on_duckdb = link(left, right, sources=("police", "ngo"))
    on_spark = link_on_spark(left, right, spark=spark, sources=("police", "ngo"))
    assert on_duckdb.quality().true_positives > 0
    assert on_spark.clusters == on_duckdb.clusters
    assert _pairs(on_spark).keys() == _pairs(on_duckdb).keys()


def test_the_model_s_duckdb_functions_are_spelt_as_spark_knows_them():
    assert to_spark_sql("list_has_any(given_forms_l, given_forms_r)") == \
        "ARRAYS_OVERLAP(given_forms_l, given_forms_r)"
    assert to_spark_sql("jaro_winkler_similarity(given_key_l, given_key_r) >= 0.92") == \
        "JARO_WINKLER(given_key_l, given_key_r) >= 0.92"


def test_the_command_runs_on_spark_when_given_a_master(tmp_path):
    """`opennrm linkage link --spark-master local[1]`, as a user types it (its own process
    and JVM): the Ukrainian and the police spelling of one man get one cluster."""
    import csv
    import subprocess
    import sys
    from pathlib import Path

    header = "ID;First;Last;Born;Sex;Country\n"
    hotline, police = tmp_path / "hotline.csv", tmp_path / "police.csv"
    hotline.write_text(header + "h1;Олександр;Шевченко;03.05.1990;ч;UA\n"
                       "h2;Ірина;Коваль;1993-11-20;F;UA\n", encoding="utf-8")
    police.write_text(header + "p1;Oleksandr;Shevchenko;1990-05-03;M;UKR\n"
                      "p2;Maria;Popescu;1988-02-01;F;MD\n", encoding="utf-8")
    output = tmp_path / "clusters.csv"
    opennrm = Path(sys.executable).parent / "opennrm"
    done = subprocess.run(
        [str(opennrm), "linkage", "link", str(hotline), str(police), "--id-column", "ID",
         "--map", "given_name=First,family_name=Last,birth_date=Born,sex=Sex,"
                  "citizenship=Country", "--spark-master", "local[1]", "--output", str(output)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(output, encoding="utf-8", newline="") as handle:
        cluster = {row["record_id"]: row["cluster_id"] for row in csv.DictReader(handle)}
    assert cluster["h1"] == cluster["p1"]
    assert len({cluster["h2"], cluster["p2"], cluster["h1"]}) == 3


def test_the_command_refuses_a_cluster_without_a_checkpoint_directory(tmp_path):
    from typer.testing import CliRunner

    from opennrm.cli import app

    register = tmp_path / "register.csv"
    register.write_text("ID;First\nr1;Ana\n", encoding="utf-8")
    result = CliRunner().invoke(app, [
        "linkage", "dedupe", str(register), "--id-column", "ID", "--map", "given_name=First",
        "--spark-master", "spark://hub.example:7077"])
    assert result.exit_code == 1
    assert "checkpoint directory" in result.output
