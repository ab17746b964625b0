"""``tunesmith serve``: a local web app over study folders (FastAPI; needs the ``web`` extra)."""
