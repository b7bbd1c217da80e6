"""The one error type for a user's mistake or a damaged file: every command turns it into
one line on stderr and exit status 1 (``--debug`` keeps the traceback). The data layer's
DataError and ImbalanceError, and ValueError for a bad option, are treated the same."""


class CsacganError(Exception):
    """A user's mistake or a damaged or foreign file, with a message that says what to do."""


class FolderInUse(CsacganError):
    """Another process holds the folder's lock."""
