"""Validation of the seamless product: the paper's three programmes plus baselines and a sweep.

``run.run_validation(ValidateConfig(...))`` (``sgdsm validate``) writes a report folder:
``checks`` computes each programme's numbers (no drawing), ``render`` turns them into prose,
tables and figures. ``sweep.run_sweep(SweepConfig(...))`` (``sgdsm sweep``) trains and scores
the sensitivity sweep, whose table the report includes. The building blocks are usable alone:
``masks`` (simulated gaps), ``baselines`` (reference fillers), ``insitu`` (ISMN stations),
``evaluate`` (every method on the same hidden cells). See docs/validation.md.
"""
