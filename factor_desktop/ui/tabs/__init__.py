"""The record tabs: Clients & Projects, Mappings, Invoices, Expenses and the Sync Log.

Each tab is handed the rows of a new snapshot through `show_snapshot()` and passes them to its
models' `set_rows()`; nothing here reads the store.
"""
