"""The loading layer: files → one normalized, lazily evaluated event frame (SPEC §2–3)."""
