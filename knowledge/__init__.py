"""Linli knowledge base: ingest FAQ and documents, retrieve, and answer with citations.

Entry points: ``python -m knowledge ingest|search|ask`` (see :mod:`knowledge.cli`)
and :func:`knowledge.answer.get_answerer` for the Rasa action.
"""
