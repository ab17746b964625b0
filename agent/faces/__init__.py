"""How a person holds a study: the Python API behind ``tunesmith``, study handles, the catalog of study
folders, insights and SVG plots, terminal formatting and live display, and the CLI, chat and web page.

The top layer: may import every other layer. The library part (``api``, ``handle``, ...) never imports the
CLI (``faces.cli``); the CLI is wired into the ``tunesmith`` command by the facade package.
"""
