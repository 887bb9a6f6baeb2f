"""Text written to CSV and Excel files that a spreadsheet will not run (CSV injection).

A spreadsheet reads a cell starting with = + - @ (or a tab or carriage return before one)
as a formula, and a formula can fetch addresses, run commands (DDE) or send the sheet's data
away. Names, notes and labels come from users, so every text cell of an export passes here.
"""

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?[0-9]+([.,][0-9]+)?")


def safe_text(value: str) -> str:
    """`value` with a single quote in front when a spreadsheet would take it for a formula.
    A number such as -5 and a lone symbol such as "-" stay as they are: no formula."""
    if (isinstance(value, str) and len(value) > 1 and value.startswith(FORMULA_START)
            and not NUMBER.fullmatch(value)):
        return "'" + value
    return value


def neutralise_formulas(workbook) -> None:
    """Every cell of an openpyxl `workbook` that holds a formula (openpyxl reads text
    starting with = as one) becomes the same text, as text."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
