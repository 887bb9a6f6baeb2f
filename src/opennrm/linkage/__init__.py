"""Record linkage: counting every person once across registers.

* `normalise`: identifiers made comparable across scripts, spellings and formats (each
  name part transliterated by the scheme of its own language, variants kept; birth dates
  with their precision; sex, citizenship, phone and document numbers as codes).
* `register`: deduplicating one register or linking two (CSV files, legacy imports, a
  partner's list) with a probabilistic Fellegi-Sunter model (Splink on DuckDB) whose
  settings are the versioned data file `model.json`; quality figures against a truth column.

Nothing here touches the database: the `opennrm linkage` commands run on files alone.
"""
