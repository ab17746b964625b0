"""Trial execution: the trust boundary.

Everything in this package imports only the standard library (optional extras such as ``ray`` are
imported lazily), so ``sandbox.report`` works inside a bare trial environment and the package never
imports the rest of tunesmith.
"""
