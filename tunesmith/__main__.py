"""``python -m tunesmith``: the same command line as the ``tunesmith`` console script."""

from tunesmith.cli import main

main()
