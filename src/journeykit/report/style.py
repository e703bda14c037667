"""What the report's figures share: the font."""

FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
"""Liberation Sans has Arial's metrics, so text measured for a figure fits wherever the page is
read."""
