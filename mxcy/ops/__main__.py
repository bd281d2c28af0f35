"""`python -m mxcy.ops --table`: print the markdown table of what computes each operator family on each
device (ops/devices.py), as README.md and docs/architecture.md show it."""
import argparse

import mxcy  # noqa: F401 - registers every operator, Custom included
from .devices import markdown_table

parser = argparse.ArgumentParser(prog="python -m mxcy.ops", description=__doc__)
parser.add_argument("--table", action="store_true", help="print the what-runs-where table")
if parser.parse_args().table:
    print(markdown_table())
else:
    parser.print_help()
