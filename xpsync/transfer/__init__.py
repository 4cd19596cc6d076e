"""`xpsync import mee6|csv` and `xpsync export csv`: people in and out of the ledger.

A file is read and checked whole before anything is written (rows.py, mee6.py,
spreadsheet.py): the first malformed row stops the import with its line number.
Then every row goes through xp.import_xp in one transaction (apply.py): a row
says what an account holds from a source, and the database applies the
difference from what the account was given from it before (up or down), so
importing a file twice changes nothing. export.py writes every account in the
CSV that spreadsheet.py reads back; importing it into the database it came from
changes nothing.
"""

from __future__ import annotations

from .apply import preview, run
from .export import export_csv
from .mee6 import read_mee6
from .rows import ImportFileError, Row
from .spreadsheet import read_csv

__all__ = ["ImportFileError", "Row", "export_csv", "preview", "read_csv", "read_mee6", "run"]
