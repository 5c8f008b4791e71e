"""The one streaming pipeline used by every entry point."""
