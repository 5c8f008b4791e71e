"""Swappers: put a source person's face onto target faces. ``mesh`` needs no training."""
