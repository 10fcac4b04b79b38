"""Linli knowledge base: ingest FAQ and documents, retrieve, and answer with citations.

Entry points: ``python -m knowledge ingest|search|ask|unanswered|versions|activate``
(see :mod:`knowledge.cli`) and :func:`knowledge.live.current` for the Rasa action.
Shared state lives in the database (:mod:`knowledge.tables`): index versions
(:mod:`knowledge.versions`) that every replica follows (:mod:`knowledge.live`),
and unanswered questions (:mod:`knowledge.unanswered`).
"""
