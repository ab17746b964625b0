"""Trial-side callbacks for training frameworks (report metrics, act on a stop). Each module imports the
framework it serves, which the trial's own environment provides; nothing else here imports them."""
