"""The web service: REST API, SQLite job store, worker pool and the static page (``facecraft serve``).

Importing this package imports nothing heavy; ``create_app`` in :mod:`facecraft.service.app` builds it.
"""
