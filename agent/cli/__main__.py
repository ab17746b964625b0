"""``python -m agent.cli`` == ``tunesmith``."""

from agent.cli.app import main

main()
