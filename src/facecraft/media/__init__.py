"""Media input and output: probe, streaming frame reader and writer (PyAV), still images.

Import the submodule you need (``facecraft.media.reader``, ``.writer``, ``.probe``, ``.image``); nothing is
re-exported here, so importing the package loads no codec library.
"""
