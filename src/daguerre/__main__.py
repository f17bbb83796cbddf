"""``python -m daguerre``: the same command line as the ``daguerre`` script."""

from daguerre.cli import app

app(prog_name="daguerre")
