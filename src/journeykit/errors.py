"""Expected failures, each with the exit code the SPEC gives it (§8)."""


class JourneykitError(Exception):
    """An expected failure: printed as one line on stderr, never as a traceback."""

    exit_code = 1


class DataError(JourneykitError):
    """The data cannot be used: unreadable file, missing column, ``--strict`` violation."""

    exit_code = 1


class UsageError(JourneykitError):
    """The command line or config asks for something that cannot be done."""

    exit_code = 2


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close.

    >>> did_you_mean("purchse", ["purchase", "page_view"])
    " (did you mean 'purchase'?)"
    """
    import difflib

    close = difflib.get_close_matches(word, sorted(map(str, choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
