"""Size limits of the readers, in one place.

Read at call time as ``limits.NAME`` so that a test can lower one.
"""

#: Limits that keep a hostile or broken file from hanging the loader or eating memory.
#: A survey export is far below each of them (100,000 respondents x 500 columns is
#: 50 million cells and a few hundred MB of text).
MAX_FILE_BYTES = 1 << 30            # any export file: 1 GiB
MAX_LINE_BYTES = 4 << 20            # one line of a text export: 4 MiB
MAX_XLSX_UNCOMPRESSED = 512 << 20   # sum of the uncompressed parts of an .xlsx: 512 MiB
MAX_XLSX_RATIO = 200                # uncompressed/compressed size of one part over 1 MiB
MAX_CELLS = 50_000_000              # rows x columns of an Excel sheet
SPARSE_MIN_CELLS = 1_000_000        # a sheet spanning more cells than this must not be
SPARSE_RATIO = 50                   # ... more than 50 times emptier than it is filled
EXCEL_MAX_ROWS = 1_048_576          # Excel's own limit; a row number past it is forged
