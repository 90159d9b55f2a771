"""Validation of the seamless product: the paper's three programmes plus baselines and a sweep.

``run.run_validation(ValidateConfig(...))`` (``sgdsm validate``) writes a report folder. The
building blocks are usable alone: ``metrics`` (scores), ``masks`` (simulated gaps),
``baselines`` (reference fillers), ``insitu`` (ISMN stations), ``evaluate`` (every method on
the same hidden cells). See docs/validation.md.
"""
