"""The ``whatif`` command line, one module per command group, thin over :mod:`planner.api`:
parse → call the API → render with :mod:`planner.report`.  No arithmetic here.

Last stage: may import everything.
"""

from planner.cli.app import main

__all__ = ["main"]
