"""Pilot Evaluation Governance: the domain, its rules and its use cases.

Nothing here knows about the UI (no Streamlit import): pages call
``governance.services`` to act and ``governance.queries`` to read.
"""
