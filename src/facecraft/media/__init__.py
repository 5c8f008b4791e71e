"""Media input and output: probe, streaming frame reader and writer (PyAV), still images."""
