"""``TunesmithCallback`` for Keras 3 (``from tunesmith.keras import TunesmithCallback``): a facade over
sandbox/integrations/keras.py, which says what it does. Needs ``keras`` (any backend) or ``tensorflow``."""

from sandbox.integrations.keras import TunesmithCallback

__all__ = ["TunesmithCallback"]
