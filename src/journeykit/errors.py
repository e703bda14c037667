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


def first_line(exc: BaseException) -> str:
    """The first non-blank line of an exception's message (its type's name when empty), for
    one-line errors that quote a library's cause.

    >>> first_line(ValueError("bad value\\n  details"))
    'bad value'
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close.

    >>> did_you_mean("purchse", ["purchase", "page_view"])
    " (did you mean 'purchase'?)"
    """
    import difflib

    close = difflib.get_close_matches(word, sorted(map(str, choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
