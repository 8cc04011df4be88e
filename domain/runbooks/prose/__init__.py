"""Plain-text runbooks (wiki pages, Slack messages, numbered lists, terse notes, Confluence
exports) read line by line the way an engineer reads them.

A command can sit on its own line between sentences, after a colon or an arrow, in backticks,
in parentheses, or after "run"/"with"; it may continue over several lines (backslashes, pipes,
an SQL string left open). The prose around it gives the step its title, its condition ("if you
see more than 50 timeouts"), whether it needs someone's approval, and whether the command is
in fact the undo of the step before ("if this makes things worse, undo it with ..."). Lines
that only describe, warn or forbid ("do not restart nginx") are never steps.

The reader is split by what each part recognises: patterns, command spans in text, the line
model, conditions and approvals, rollbacks, step assembly, command lines and the walk itself.
"""

from __future__ import annotations

from domain.runbooks.prose.command_spans import Found, find_commands, is_plain_text
from domain.runbooks.prose.reader import read

__all__ = ["Found", "find_commands", "is_plain_text", "read"]
