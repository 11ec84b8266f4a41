"""Thin item models over the snapshot's rows, one module an area; `base` holds what they share."""
