"""Blending a rendered face into the frame: masks from the mesh, colour transfer, blending."""
