"""The code of the command-line tools: ``tools/<name>.py`` runs
``facedisentangle.cli.<name>.main`` (as does ``python -m facedisentangle.cli.<name>``).

The tools stay thin so that the tests and other tools import a command's code from here, never
from a file under ``tools/``. What a command does with the data lives in the package modules it
calls (``apis``, ``data_prep``, ``datasets``, ``inference``); this package parses the options
and reports.
"""
