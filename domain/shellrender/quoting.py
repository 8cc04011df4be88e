"""Quote text for one level of shell reading, so that level decodes it back byte for byte."""

from __future__ import annotations

import re
import shlex

from domain.shellrender.lexer import State


def quote(text: str, state: State) -> str:
    """What to write, in a spot read as `state`, for the shell to read exactly `text`."""
    if state is State.UNQUOTED:
        return shlex.quote(text)
    if state is State.DOUBLE:
        # Inside "…" only $ ` \ " are special (history expansion is off in non-interactive bash).
        return re.sub(r'([$`\\"])', r"\\\1", text)
    if state is State.SINGLE:
        # Nothing is special but the closing quote: end it, add an escaped quote, reopen.
        return text.replace("'", "'\\''")
    if state is State.ANSI:
        return text.replace("\\", "\\\\").replace("'", "\\'")
    if state is State.HEREDOC:
        # An unquoted heredoc body reads like "…" except that `"` is not special.
        return re.sub(r"([$`\\])", r"\\\1", text)
    return text  # quoted heredoc: literal; the delimiter check is done on the result


def quote_chain(value: str, chain: tuple[State, ...]) -> str:
    """Quote for the innermost level first, then for each enclosing one."""
    text = value
    for state in reversed(chain):
        text = quote(text, state)
    return text
