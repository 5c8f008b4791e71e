"""Facesets: aligned face crops extracted from a user's footage, the training data of trained swappers."""
