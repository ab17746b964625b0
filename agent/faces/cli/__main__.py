"""``python -m agent.faces.cli`` == ``tunesmith``."""

from agent.faces.cli.app import main

main()
