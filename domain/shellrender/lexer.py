"""A lexer for the bash subset runbook commands use, tracking where each placeholder stands.

Placeholders arrive as sentinel characters (one per occurrence). Each word is decoded (quotes
removed) with sentinels kept and expansions marked, so a word can be re-read as a nested script.
Anything the lexer does not model exactly (case, arithmetic, `${…}`, backticks, comments,
`[[ … ]]`) either raises LexError or marks the placeholders inside it as refused: a wrong guess
about bash's grammar must never turn into a quoting decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from domain.shellrender.names import canonical_name

SENTINEL_BASE = 0xF0000  # supplementary private use area: one code point per placeholder
SENTINEL_LIMIT = 0xF0000 + 4096
DYN = "\ufdd0"  # starts an expansion in decoded text (its raw text follows)
DYN_END = "\ufdd1"

_METACHARS = frozenset(" \t\n;&|()<>")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_REDIRECT_RE = re.compile(r"(\d*)(<<<|<<-|<<|<>|<&|>&|>>|>\||&>>|&>|<|>)")


class LexError(ValueError):
    """The command uses syntax the renderer does not model; no placeholder in it is rendered."""


class State(StrEnum):
    """How the placeholder's characters are read at one level of evaluation."""

    UNQUOTED = "unquoted"
    DOUBLE = "double-quoted"
    SINGLE = "single-quoted"
    ANSI = "$'…' (ANSI-C)"
    HEREDOC = "heredoc body"
    HEREDOC_QUOTED = "quoted heredoc body"


def sentinel(index: int) -> str:
    return chr(SENTINEL_BASE + index)


def sentinel_index(ch: str) -> int | None:
    code = ord(ch)
    return code - SENTINEL_BASE if SENTINEL_BASE <= code < SENTINEL_LIMIT else None


@dataclass
class Word:
    """One shell word: decoded text (sentinels kept, expansions as DYN…DYN_END) and its pieces."""

    text: str = ""
    states: dict[int, State] = field(default_factory=dict)
    subs: list[Script] = field(default_factory=list)
    subs_quoted: list[bool] = field(default_factory=list)  # each $(…) inside "…" (not split)
    quoted: bool = False
    splittable: bool = False  # unquoted expansion, glob or braces: may become 0 or many words
    raw: str = ""

    @property
    def literal(self) -> bool:
        return DYN not in self.text and not any(sentinel_index(c) is not None for c in self.text)


@dataclass
class Heredoc:
    delimiter: str
    quoted: bool
    strip_tabs: bool
    body: Word = field(default_factory=Word)


@dataclass
class Command:
    """A simple command, or a `( … )` group when `group` is set."""

    assigns: list[Word] = field(default_factory=list)
    argv: list[Word] = field(default_factory=list)
    redirects: list[tuple[str, Word]] = field(default_factory=list)
    heredocs: list[Heredoc] = field(default_factory=list)
    herestrings: list[Word] = field(default_factory=list)
    group: Script | None = None
    opaque: str = ""  # `[[ … ]]` or `(( … ))`: kept raw, never rendered into

    def empty(self) -> bool:
        return not (
            self.assigns or self.argv or self.redirects or self.group is not None or self.opaque
        )


@dataclass
class Script:
    items: list[Command | str] = field(default_factory=list)


class Lexer:
    """Reads one script. `placeholders=False` reads sentinel characters as plain text."""

    def __init__(
        self,
        src: str,
        refused: dict[int, str],
        *,
        placeholders: bool = True,
        declared: frozenset[str] | None = None,
    ) -> None:
        self.s = src
        self.i = 0
        self.n = len(src)
        self.refused = refused
        self.placeholders = placeholders
        self.declared = declared
        self.dollar_names: list[tuple[int, int, str]] = []  # discovered `$NAME` placeholders
        self._pending: list[Heredoc] = []

    # ---------------------------------------------------------------- helpers

    def _ph(self, ch: str) -> int | None:
        return sentinel_index(ch) if self.placeholders else None

    def _refuse_inside(self, text: str, reason: str) -> None:
        for ch in text:
            index = self._ph(ch)
            if index is not None:
                self.refused.setdefault(index, reason)

    def _peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < self.n else ""

    # ---------------------------------------------------------------- scripts

    def script(self, closer: str | None = None) -> Script:
        out = Script()
        cmd = Command()

        def end(op: str | None) -> None:
            nonlocal cmd
            if not cmd.empty():
                out.items.append(cmd)
            elif (
                op is not None
                and op not in {";", "\n"}
                and (not out.items or isinstance(out.items[-1], str))
            ):
                raise LexError(f"operator {op!r} without a command")
            if op is not None:
                out.items.append(op)
            cmd = Command()

        while True:
            self._skip_blanks()
            if self.i >= self.n:
                if closer is not None:
                    raise LexError(f"missing {closer!r}")
                end(None)
                if self._pending:
                    self._pending.clear()  # bash reads an empty body at end of input
                return out
            c = self.s[self.i]
            if c == ")":
                if closer != ")":
                    raise LexError("unbalanced ')'")
                self.i += 1
                end(None)
                return out
            if c == "#":
                stop = self.s.find("\n", self.i)
                stop = self.n if stop == -1 else stop
                self._refuse_inside(self.s[self.i : stop], "inside a comment")
                self.i = stop
                continue
            if c == "\n":
                self.i += 1
                end("\n")
                self._read_heredoc_bodies()
                continue
            if c == "(":
                if not cmd.empty():
                    raise LexError("'(' inside a command (function or array syntax)")
                if self.s.startswith("((", self.i):
                    start = self.i
                    self.i = self._balanced(self.i + 2, "(", ")", depth=2)
                    cmd.opaque = self.s[start : self.i]
                    self._refuse_inside(cmd.opaque, "inside (( … )) arithmetic")
                    continue
                self.i += 1
                cmd.group = self.script(")")
                continue
            redirect = _REDIRECT_RE.match(self.s, self.i)
            if redirect and (redirect.group(1) == "" or self._at_word_start()):
                self._redirect(cmd, redirect)
                continue
            if c in ";&|":
                op = self._operator()
                end(op)
                continue
            if cmd.group is not None:
                raise LexError("words after a ( … ) group")
            word = self._word()
            if not cmd.argv and not cmd.assigns and word.raw == "[[":
                self._double_bracket(cmd)
                continue
            if not cmd.argv and word.raw in {"case", "coproc", "select"}:
                raise LexError(f"'{word.raw}' is not modelled")
            if not cmd.argv and _ASSIGN_RE.match(word.raw):
                if "=(" in word.raw:
                    raise LexError("array assignment")
                cmd.assigns.append(word)
            else:
                cmd.argv.append(word)

    def _at_word_start(self) -> bool:
        return self.i == 0 or self.s[self.i - 1] in _METACHARS

    def _skip_blanks(self) -> None:
        while self.i < self.n:
            c = self.s[self.i]
            if c in " \t":
                self.i += 1
            elif c == "\\" and self._peek(1) == "\n":
                self.i += 2
            else:
                return

    def _operator(self) -> str:
        for op in (";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|"):
            if self.s.startswith(op, self.i):
                if op in {";;&", ";;", ";&"}:
                    raise LexError("case syntax")
                self.i += len(op)
                return op
        raise LexError("unknown operator")  # pragma: no cover

    def _redirect(self, cmd: Command, match: re.Match[str]) -> None:
        op = match.group(2)
        self.i = match.end()
        self._skip_blanks()
        if self.i >= self.n or self.s[self.i] in _METACHARS:
            raise LexError(f"redirection {op!r} without a target")
        target = self._word()
        if op in {"<<", "<<-"}:
            if not target.literal:
                raise LexError("heredoc delimiter with expansions or placeholders")
            doc = Heredoc(target.text, target.quoted, op == "<<-")
            cmd.heredocs.append(doc)
            self._pending.append(doc)
        elif op == "<<<":
            cmd.herestrings.append(target)
        else:
            cmd.redirects.append((match.group(0), target))

    def _read_heredoc_bodies(self) -> None:
        while self._pending:
            doc = self._pending.pop(0)
            start = self.i
            body_end = self.n
            pos = self.i
            while pos < self.n:
                stop = self.s.find("\n", pos)
                line = self.s[pos:] if stop == -1 else self.s[pos:stop]
                check = line.lstrip("\t") if doc.strip_tabs else line
                if check == doc.delimiter:
                    body_end = pos
                    pos = self.n if stop == -1 else stop + 1
                    break
                pos = self.n if stop == -1 else stop + 1
            else:
                body_end = self.n
            raw = self.s[start:body_end]
            if doc.strip_tabs:
                raw = "\n".join(line.lstrip("\t") for line in raw.split("\n"))
            doc.body = self._heredoc_body(raw, start, body_end, doc)
            self.i = pos

    def _heredoc_body(self, stripped: str, start: int, end: int, doc: Heredoc) -> Word:
        word = Word(raw=self.s[start:end])
        if doc.quoted:
            word.text = stripped
            for ch in stripped:
                index = self._ph(ch)
                if index is not None:
                    word.states[index] = State.HEREDOC_QUOTED
            return word
        if doc.strip_tabs and "\n\t" in "\n" + self.s[start:end]:
            raise LexError("<<- heredoc with tab-indented expansions is not modelled")
        saved_n, self.i, self.n = self.n, start, end
        try:
            self._double_body(word, State.HEREDOC, closer=None)
        finally:
            self.n = saved_n
        return word

    def _double_bracket(self, cmd: Command) -> None:
        start = self.i
        while True:
            self._skip_blanks()
            if self.i >= self.n:
                raise LexError("unterminated [[")
            if self.s[self.i] in "\n;":
                raise LexError("[[ without ]]")
            if self.s[self.i] in _METACHARS:
                self.i += 1
                continue
            word = self._word()
            if word.raw == "]]":
                break
        cmd.opaque = "[[" + self.s[start : self.i]
        self._refuse_inside(cmd.opaque, "inside [[ … ]] (pattern and arithmetic evaluation)")
        cmd.argv = []

    def _balanced(self, j: int, opener: str, closer: str, depth: int = 1) -> int:
        """Index after the closers matching `depth` openers; quotes inside are not modelled."""
        while j < self.n:
            c = self.s[j]
            if c in "'\"`\\":
                raise LexError("quoting inside arithmetic or ${…} is not modelled")
            if c == opener:
                depth += 1
            elif c == closer:
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise LexError(f"missing {closer!r}")

    # ---------------------------------------------------------------- words

    def _word(self) -> Word:
        word = Word()
        start = self.i
        if self.s.startswith(("<(", ">("), self.i):
            raise LexError("process substitution is not modelled")
        out: list[str] = []
        unquoted: list[str] = []
        while self.i < self.n:
            c = self.s[self.i]
            if c in _METACHARS:
                break
            index = self._ph(c)
            if index is not None:
                word.states[index] = State.UNQUOTED
                out.append(c)
                self.i += 1
            elif c == "\\":
                nxt = self._peek(1)
                if nxt == "\n":
                    self.i += 2
                    continue
                word.quoted = True
                if nxt and self._ph(nxt) is not None:
                    self.refused.setdefault(self._ph(nxt) or 0, "follows a backslash")
                    self.i += 1
                    continue
                out.append(nxt)
                self.i += 2 if nxt else 1
            elif c == "'":
                stop = self.s.find("'", self.i + 1)
                if stop == -1 or stop >= self.n:
                    raise LexError("unterminated single quote")
                segment = self.s[self.i + 1 : stop]
                for ch in segment:
                    index = self._ph(ch)
                    if index is not None:
                        word.states[index] = State.SINGLE
                out.append(segment)
                word.quoted = True
                self.i = stop + 1
            elif c == '"':
                word.quoted = True
                self.i += 1
                out.append(self._double_body(word, State.DOUBLE, closer='"'))
            elif c == "$":
                piece = self._dollar(word, State.UNQUOTED)
                word.splittable = word.splittable or piece.startswith(DYN)
                out.append(piece)
            elif c == "`":
                word.splittable = True
                out.append(self._backtick())
            else:
                unquoted.append(c)
                out.append(c)
                self.i += 1
        word.raw = self.s[start : self.i]
        bare = "".join(unquoted)
        if any(g in bare for g in "*?[") or ("{" in bare and ("," in bare or ".." in bare)):
            word.splittable = True  # a glob or brace expansion may make several words
        word.text = "".join(out) if not word.text else word.text + "".join(out)
        return word

    def _double_body(self, word: Word, state: State, closer: str | None) -> str:
        """Decode up to `closer` (`"`), or the whole range for a heredoc body (closer None)."""
        out: list[str] = []
        specials = '$`"\\\n' if closer else "$`\\\n"
        while True:
            if self.i >= self.n:
                if closer is None:
                    break
                raise LexError("unterminated double quote")
            c = self.s[self.i]
            if closer is not None and c == closer:
                self.i += 1
                break
            index = self._ph(c)
            if index is not None:
                word.states[index] = state
                out.append(c)
                self.i += 1
            elif c == "\\":
                nxt = self._peek(1)
                if nxt and self._ph(nxt) is not None:
                    self.refused.setdefault(self._ph(nxt) or 0, "follows a backslash")
                    out.append("\\")
                    self.i += 1
                elif nxt == "\n":
                    self.i += 2
                elif nxt and nxt in specials:
                    out.append(nxt)
                    self.i += 2
                else:
                    out.append("\\")
                    self.i += 1
            elif c == "$":
                if self._peek(1) in {"'", '"'} and closer is not None:
                    out.append("$")
                    self.i += 1
                else:
                    out.append(self._dollar(word, state))
            elif c == "`":
                out.append(self._backtick())
            else:
                out.append(c)
                self.i += 1
        if closer is None:
            word.text = "".join(out)
        return "".join(out)

    def _dollar(self, word: Word, state: State) -> str:
        """Decode what starts at `$`: an expansion (marked DYN), `$'…'`, or a literal `$`."""
        start = self.i
        nxt = self._peek(1)
        if nxt and self._ph(nxt) is not None:
            self.refused.setdefault(self._ph(nxt) or 0, "follows a '$'")
            self.i += 1
            return "$"
        if nxt == "'" and state is State.UNQUOTED:
            word.quoted = True
            return self._ansi(word)
        if nxt == '"' and state is State.UNQUOTED:
            word.quoted = True
            self.i += 2
            return self._double_body(word, State.DOUBLE, closer='"')
        if self.s.startswith("$((", self.i):
            self.i = self._balanced(self.i + 3, "(", ")", depth=2)
            raw = self.s[start : self.i]
            self._refuse_inside(raw, "inside $(( … )) arithmetic")
            return DYN + raw + DYN_END
        if nxt == "(":
            self.i += 2
            sub = self.script(")")
            word.subs.append(sub)
            word.subs_quoted.append(state is not State.UNQUOTED)
            return DYN + "$(" + str(len(word.subs)) + DYN_END
        if nxt == "{":
            self.i = self._balanced(self.i + 2, "{", "}")
            raw = self.s[start : self.i]
            self._refuse_inside(raw, "inside ${…} parameter expansion")
            if self.declared is not None:
                name = raw[2:-1]
                if _NAME_RE.fullmatch(name) and _declared(name, self.declared):
                    self.dollar_names.append((start, self.i, name))
            return DYN + raw + DYN_END
        match = _NAME_RE.match(self.s, self.i + 1)
        if match and match.end() <= self.n:
            self.i = match.end()
            name = match.group(0)
            if self.declared is not None and _declared(name, self.declared):
                self.dollar_names.append((start, self.i, name))
            return DYN + "$" + name + DYN_END
        if nxt and (nxt.isdigit() or nxt in "@*#?-$!"):
            self.i += 2
            return DYN + self.s[start : self.i] + DYN_END
        self.i += 1
        return "$"

    def _ansi(self, word: Word) -> str:
        self.i += 2
        out: list[str] = []
        while True:
            if self.i >= self.n:
                raise LexError("unterminated $'…'")
            c = self.s[self.i]
            if c == "'":
                self.i += 1
                return "".join(out)
            index = self._ph(c)
            if index is not None:
                word.states[index] = State.ANSI
                out.append(c)
                self.i += 1
            elif c == "\\":
                out.append(self._ansi_escape())
            else:
                out.append(c)
                self.i += 1

    def _ansi_escape(self) -> str:
        nxt = self._peek(1)
        if nxt and self._ph(nxt) is not None:
            self.refused.setdefault(self._ph(nxt) or 0, "follows a backslash")
            self.i += 1
            return "\\"
        simple = dict(zip("abeEfnrtv\\'\"?", "\a\b\x1b\x1b\f\n\r\t\v\\'\"?", strict=True))
        if nxt in simple:
            self.i += 2
            return simple[nxt]
        for lead, digits, width in (("x", "0123456789abcdefABCDEF", 2), ("u", "", 4), ("U", "", 8)):
            if nxt == lead:
                allowed = digits or "0123456789abcdefABCDEF"
                j = self.i + 2
                while j < self.n and j < self.i + 2 + width and self.s[j] in allowed:
                    j += 1
                if j == self.i + 2:
                    raise LexError("escape without digits in $'…'")
                code = int(self.s[self.i + 2 : j], 16)
                self.i = j
                if code == 0 or code > 0x10FFFF:
                    raise LexError("NUL or out-of-range escape in $'…'")
                return chr(code)
        if nxt and nxt in "01234567":
            j = self.i + 1
            while j < self.n and j < self.i + 4 and self.s[j] in "01234567":
                j += 1
            code = int(self.s[self.i + 1 : j], 8)
            self.i = j
            if code == 0:
                raise LexError("NUL escape in $'…'")
            return chr(code & 0xFF)
        if nxt == "c":
            raise LexError("control escape in $'…' is not modelled")
        self.i += 2 if nxt else 1
        return "\\" + nxt

    def _backtick(self) -> str:
        start = self.i
        j = self.i + 1
        while j < self.n and self.s[j] != "`":
            j += 2 if self.s[j] == "\\" else 1
        if j >= self.n:
            raise LexError("unterminated backtick")
        self.i = j + 1
        raw = self.s[start : self.i]
        self._refuse_inside(raw, "inside `…` (legacy command substitution re-reads backslashes)")
        return DYN + raw + DYN_END


def _declared(name: str, declared: frozenset[str]) -> bool:
    return canonical_name(name) in declared


def lex(src: str, refused: dict[int, str], *, placeholders: bool = True) -> Script:
    """Read a whole script (raises LexError for syntax that is not modelled)."""
    lexer = Lexer(src, refused, placeholders=placeholders)
    script = lexer.script()
    return script


def find_dollar_placeholders(src: str, declared: frozenset[str]) -> list[tuple[int, int, str]]:
    """Spans of `$NAME`/`${NAME}` for declared names where the shell would expand them."""
    lexer = Lexer(src, {}, placeholders=False, declared=declared)
    lexer.script()
    return lexer.dollar_names
