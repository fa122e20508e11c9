"""Releases from their publishers: ``kg fetch`` downloads them, ``kg update`` keeps the graph current.

* :mod:`kg.fetch.settings`   base URLs, the mirror, proxy and timeout (environment or CLI)
* :mod:`kg.fetch.publishers` where each source publishes its releases and how a release is laid out
* :mod:`kg.fetch.formats`    the first-bytes check per file type (a changed format is refused)
* :mod:`kg.fetch.download`   one file: resumable (HTTP Range), checksum-verified, atomic
* :mod:`kg.fetch.cache`      a release's files staged, then swapped into the data folder, with a manifest
* :mod:`kg.fetch.update`     which sources have a newer release; fetch, verify, load, one run at a time

Nothing here parses a release: the loaders remain the only readers of release files. Fetching
reads a file's first bytes (magic number, header line) to refuse an error page or a changed
format, archive member names (zip central directory) and publishers' listings.
"""
