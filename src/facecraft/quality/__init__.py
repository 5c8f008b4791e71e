"""Swap quality in numbers and pictures: identity, pose, expression, flicker, jitter, seams, coverage.

- ``recorder.QualityRecorder``: ``observe(index, time_s, target_bgr, output_bgr, target_faces)`` per frame,
  ``report() -> report.QualityReport`` at the end (``to_json()`` gives exactly the ten headline keys).
  ``background.BackgroundRecorder`` runs one on its own thread during a swap.
- ``evaluate.evaluate``: the same numbers from files (``facecraft eval``), with contact sheet rows
  (``sheet.draw_contact_sheet``).
- Metric modules: ``identity`` (sampling, distance statistics), ``pose`` (solvePnP against a canonical
  face), ``expression`` (mouth and eye aspect ratios, correlation rules), ``flicker`` (frame-to-frame change,
  landmark jitter), ``seams`` (gradient energy along the face boundary), ``patches`` (small face patches).

Import the submodule you need; nothing is re-exported here and nothing loads at import.
"""
