"""``TunesmithCallback`` for Hugging Face's ``transformers.Trainer`` (``from tunesmith.huggingface import
TunesmithCallback``): a facade over sandbox/integrations/huggingface.py, which says what it does. Needs
``transformers`` with ``accelerate``."""

from sandbox.integrations.huggingface import TunesmithCallback

__all__ = ["TunesmithCallback"]
