"""Factor Desktop: keeps a firm's Factor records and its QuickBooks Online company in step."""

__version__ = "0.1.0"
