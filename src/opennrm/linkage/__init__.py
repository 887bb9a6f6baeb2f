"""Record linkage: counting every person once across registers.

* `normalise`: identifiers made comparable across scripts, spellings and formats (each
  name part transliterated by the scheme of its own language, variants kept; birth dates
  with their precision; sex, citizenship, phone and document numbers as codes).
* `register`: deduplicating one register or linking two (CSV files, legacy imports, a
  partner's list) with a probabilistic Fellegi-Sunter model (Splink on DuckDB) whose
  settings are the versioned data file `model.json`; quality figures against a truth column.

* `spark`: the same model on Splink's Spark backend, for registers of tens of millions of
  records (docs/linkage-spark.md).
* `pprl`, `pprl_kernel`: keyed, hardened Bloom-filter encodings and their Dice comparison,
  for linkage across nodes without names (docs/pprl.md).
* The Django app: the node's linkage job (`node`), the review queue (`review`), the check
  at registration (`registration`); `crossborder` is the app linking across nodes.

`normalise`, `register`, `spark` and `pprl` touch no database: the `opennrm linkage`
commands run on files alone.
"""
