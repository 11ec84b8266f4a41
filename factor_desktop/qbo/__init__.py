"""QuickBooks Online wire format and transport. No Qt.

- ``client``: :class:`~factor_desktop.qbo.client.QboClient`, the REST client (CRUD, void, query,
  paging, count, change data capture, batch, attachments).
- ``transport``: the client's HTTP side: token, requestid, pacing, retries, counters.
- ``batch``: batch items and results, and how each entity is voided.
- ``errors``: the typed fault hierarchy, built from a response or a batch item.
- ``fault_shapes``: every fault shape QBO sends, read; the redaction of their texts.
- ``query``: the query builder and QBO's value quoting.
- ``ratelimit``: the per-realm request pacer.
- ``auth_protocol``: :class:`~factor_desktop.qbo.auth_protocol.TokenSource`, what the client
  needs from the token holder.
"""
