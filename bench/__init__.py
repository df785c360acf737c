"""The organisation-scale benchmark (issue 6): a scale generator, invariant checks and
measurements. Run ``python -m bench --scale smoke|town|ministry|nation --json results.json``."""
