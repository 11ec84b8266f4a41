"""Tests of the desktop window: models, the worker, the tabs, connecting and demo mode."""
