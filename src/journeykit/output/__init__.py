"""The output layer shared by every command (SPEC §8)."""
