"""Receipts inside the window: the Expenses tab's preview pane and a larger viewer dialog.

`ReceiptViewer` shows one expense's receipts a page at a time (PDF pages, or an image), with
zoom (fit, in, out), paging through pages and receipts, "Open with system viewer" and "Save
as…". Everything slow happens in jobs on the window's worker thread, never here:

- `RenderReceiptJob` reads the cached file and turns one page into a `QImage` (PDFium for PDF
  pages, Qt's image readers for PNG, JPEG and GIF), at most `MAX_SIDE` pixels a side, so that
  scaling it for the screen on the GUI thread stays cheap. The single worker also keeps PDFium,
  which is not thread-safe, on one thread.
- `DownloadReceiptJob` fetches a receipt the sync has not brought yet.
- `SaveReceiptJob` and `ViewerCopyJob` copy the file, for "Save as…" and for the system viewer
  (which gets a copy under the receipt's own name; the cache names files by their hash).

The viewer awaits each job it starts (`await runner.run(job)` in a coroutine on the window's
loop); a page that arrives after another was asked for is dropped. `pages` draws a page, `jobs`
holds the jobs, `page_view` shows a page with its zoom, `viewer` pages through receipts, and
`dialog` is the larger view.
"""
