"""Face analysis: detection, dense landmarks, alignment, identity, tracking and selection."""
