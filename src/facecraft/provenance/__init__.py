"""Marking what facecraft makes: invisible watermark, C2PA Content Credentials, visible label, records."""
