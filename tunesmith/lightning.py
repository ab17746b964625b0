"""``TunesmithCallback`` for PyTorch Lightning (``from tunesmith.lightning import TunesmithCallback``): a facade
over sandbox/integrations/lightning.py, which says what it does. Needs ``lightning`` (or ``pytorch-lightning``)."""

from sandbox.integrations.lightning import TunesmithCallback

__all__ = ["TunesmithCallback"]
