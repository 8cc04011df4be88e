"""Find, for every placeholder, the chain of quoting levels it passes through before it is used.

The walk also builds a skeleton of the command (words, operators, nested scripts) that the
renderer compares before and after substitution: same skeleton means no value became syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.shellrender import commands
from domain.shellrender.lexer import DYN, Command, Lexer, Script, State, Word, sentinel_index

Skeleton = tuple[object, ...]


@dataclass(frozen=True)
class Context:
    """Where one placeholder ends up: its levels (outermost first) and how it is used."""

    chain: tuple[State, ...]
    where: str
    option_word: bool = False  # leading '-' would be read as an option
    before: tuple[int, ...] = ()  # placeholders earlier in the same word (all at word start)


@dataclass
class Analysis:
    contexts: dict[int, Context] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)
    typed_vars: bool = False  # the command declares typed variables: assignments may evaluate
    source: str = ""  # the whole template: where an assigned variable may be used again


def _placeholders(text: str) -> list[int]:
    return [i for i in (sentinel_index(c) for c in text) if i is not None]


def analyze(src: str, result: Analysis, *, placeholders: bool = True) -> Skeleton:
    """Skeleton of `src`; contexts and refusals of its placeholders go into `result`."""
    lexer = Lexer(src, result.refused, placeholders=placeholders)
    result.source = result.source or src
    return _script(lexer.script(), {}, result, "", placeholders)


def _script(
    script: Script,
    outer: dict[int, tuple[State, ...]],
    result: Analysis,
    where: str,
    placeholders: bool,
) -> Skeleton:
    out: list[object] = []
    for item in script.items:
        if isinstance(item, str):
            out.append(item)
        else:
            out.append(_command(item, outer, result, where, placeholders))
    _pipes_into_code(script, result, where)
    return tuple(out)


def _pipes_into_code(script: Script, result: Analysis, where: str) -> None:
    """A value printed into a pipe that a shell (or xargs) reads becomes code: refuse it."""
    upstream: list[Command] = []
    previous = ""
    for item in script.items:
        if isinstance(item, str):
            previous = item
            if item not in {"|", "|&"}:
                upstream = []
            continue
        if previous in {"|", "|&"} and _reads_code(item):
            for cmd in upstream:
                for index in _command_placeholders(cmd):
                    result.refused.setdefault(index, f"{where}piped into a program that runs it")
        upstream.append(item)
        previous = ""


def _reads_code(cmd: Command) -> bool:
    if cmd.group is not None:
        return True  # a ( … ) group: what reads the pipe inside it is not followed
    return bool(cmd.argv) and commands.stdin_is_code([w.text for w in cmd.argv])


def _command_placeholders(cmd: Command) -> list[int]:
    words = [*cmd.assigns, *cmd.argv, *(t for _, t in cmd.redirects), *cmd.herestrings]
    words += [d.body for d in cmd.heredocs]
    found = [i for w in words for i in _placeholders(w.raw + w.text)]
    if cmd.group is not None:
        for item in cmd.group.items:
            if not isinstance(item, str):
                found += _command_placeholders(item)
    return found + _placeholders(cmd.opaque)


def _data(
    word: Word, outer: dict[int, tuple[State, ...]], result: Analysis, where: str, option: bool
) -> None:
    ids = _placeholders(word.text)
    leading: list[int] = []
    at_start = True
    for pos, ch in enumerate(word.text):
        index = sentinel_index(ch)
        if index is None:
            at_start = False
            continue
        if index not in word.states:
            continue
        result.contexts.setdefault(
            index,
            Context(
                chain=(*outer.get(index, ()), word.states[index]),
                where=where,
                option_word=option and at_start,
                before=tuple(leading) if at_start else (),
            ),
        )
        if at_start:
            leading.append(index)
        del pos
    del ids
    # Placeholders inside a $(…) of this word: its output becomes part of this word.
    inner = [i for i in _placeholders(word.raw) if i not in word.states]
    if inner and not all(word.subs_quoted):
        reason = f"{where}: output of an unquoted $(…), split into words and globbed"
    elif inner and option and word.text.startswith(DYN):
        reason = f"{where}: output of $(…) starts a word that could be read as an option"
    else:
        return
    for index in inner:
        result.refused.setdefault(index, reason)


def _used_again(assignment: str, source: str) -> bool:
    """The variable is expanded somewhere: where its value goes is not followed, so refuse."""
    name = re.escape(assignment.split("=", 1)[0].rstrip("+"))
    return re.search(rf"\$\{{?!?#?{name}\b", source) is not None


def _refuse(word: Word, result: Analysis, reason: str) -> None:
    """Refuse every placeholder in the word, including those inside its $(…)."""
    for index in _placeholders(word.raw + word.text):
        result.refused.setdefault(index, reason)


def _subs(
    word: Word,
    outer: dict[int, tuple[State, ...]],
    result: Analysis,
    where: str,
    placeholders: bool,
) -> tuple[Skeleton, ...]:
    return tuple(_script(sub, outer, result, f"{where}in $(…) ", placeholders) for sub in word.subs)


def _nested(
    words: list[Word],
    outer: dict[int, tuple[State, ...]],
    result: Analysis,
    where: str,
    placeholders: bool,
) -> Skeleton:
    """Words a program re-reads as a script (joined by spaces, as ssh and eval do)."""
    text = " ".join(w.text for w in words)
    if any("\ufdd0" in w.text for w in words):
        for word in words:
            _refuse(
                word, result, f"{where}: the script contains expansions the renderer cannot see"
            )
        return ("opaque-script", text)
    inner = dict(outer)
    for word in words:
        for index, state in word.states.items():
            inner[index] = (*outer.get(index, ()), state)
    lexer = Lexer(text, result.refused, placeholders=placeholders)
    try:
        script = lexer.script()
    except ValueError as err:
        for word in words:
            _refuse(word, result, f"{where}: {err}")
        return ("unparsed-script", text)
    return ("script", _script(script, inner, result, where + ", ", placeholders))


def _argv(
    argv: list[Word],
    outer: dict[int, tuple[State, ...]],
    result: Analysis,
    where: str,
    placeholders: bool,
) -> Skeleton:
    texts = [w.text for w in argv]
    plan = commands.plan(texts)
    name = texts[0] if texts else ""
    out: list[object] = []
    in_script: dict[int, Skeleton] = {}
    for indices, what in plan.scripts:
        if not indices:
            continue
        sk = _nested([argv[k] for k in indices], outer, result, f"{where}{what}", placeholders)
        in_script[indices[0]] = sk
        for k in indices[1:]:
            in_script[k] = ("joined",)
    sub_range = range(plan.sub[0], plan.sub[1]) if plan.sub else range(0)
    sub_skeleton: Skeleton = ()
    if plan.sub:
        start, end, what = plan.sub
        sub_skeleton = _argv(argv[start:end], outer, result, f"{where}{what}: ", placeholders)
    # Words after one that may expand to zero or many words have no fixed position: that only
    # matters for programs that give positions roles (script, host, wrapped command…).
    positional = bool(
        plan.scripts or plan.sub or plan.refused or plan.stdin or plan.no_options_from
    )
    shifting = next((k for k, w in enumerate(argv) if w.splittable), len(argv))
    if not positional:
        shifting = len(argv)
    for k, word in enumerate(argv):
        subs = _subs(word, outer, result, where, placeholders)
        if k >= shifting and k > 0:
            _refuse(
                word,
                result,
                f"{where}follows an unquoted expansion or glob, so its position "
                "(and what the program makes of it) is not fixed: quote that word",
            )
        if k in plan.refused:
            _refuse(word, result, f"{where}{plan.refused[k]}")
            out.append(("word", word.text, subs))
        elif k == 0:
            _refuse(word, result, f"{where}would choose the program to run")
            out.append(("word", word.text, subs))
        elif k in in_script:
            out.append(in_script[k])
        elif name == "env" and "=" in word.raw and _used_again(word.raw, result.source):
            _refuse(word, result, f"{where}sets a variable the command uses again")
            out.append(("word", word.text, subs))
        elif k in sub_range:
            if k == sub_range.start:
                out.append(("run", sub_skeleton))
        else:
            option = not (
                (plan.end_options is not None and k > plan.end_options)
                or (plan.no_options_from is not None and k >= plan.no_options_from)
            )
            _data(word, outer, result, f"{where}argument of `{name}`", option)
            out.append(("word", word.text, subs))
    return tuple(out)


def _command(
    cmd: Command,
    outer: dict[int, tuple[State, ...]],
    result: Analysis,
    where: str,
    placeholders: bool,
) -> Skeleton:
    if cmd.group is not None:
        group = _script(cmd.group, outer, result, where, placeholders)
        return ("group", group, _redirects(cmd, outer, result, where, placeholders))
    if cmd.opaque:
        return ("opaque", cmd.opaque, _redirects(cmd, outer, result, where, placeholders))
    assigns: list[object] = []
    for word in cmd.assigns:
        if commands.UNSAFE_ASSIGN.match(word.raw):
            _refuse(word, result, f"{where}assigns a variable the shell or programs evaluate")
        elif _used_again(word.raw, result.source):
            _refuse(word, result, f"{where}assigns a variable the command uses again")
        elif result.typed_vars:
            _refuse(word, result, f"{where}assignment in a script that declares typed variables")
        else:
            _data(word, outer, result, f"{where}variable assignment", option=False)
        assigns.append((word.text, _subs(word, outer, result, where, placeholders)))
    argv = _argv(cmd.argv, outer, result, where, placeholders)
    redirects = _redirects(cmd, outer, result, where, placeholders)
    return ("cmd", tuple(assigns), argv, redirects)


def _redirects(
    cmd: Command,
    outer: dict[int, tuple[State, ...]],
    result: Analysis,
    where: str,
    placeholders: bool,
) -> Skeleton:
    out: list[object] = []
    for op, target in cmd.redirects:
        subs = _subs(target, outer, result, where, placeholders)
        if op.endswith("&"):
            _refuse(target, result, f"{where}target of {op} (a file descriptor)")
        else:
            _data(target, outer, result, f"{where}redirection target", option=False)
        out.append((op, target.text, subs))
    stdin = commands.stdin_of([w.text for w in cmd.argv]) if cmd.argv else None
    feeds: list[Word] = [d.body for d in cmd.heredocs] + list(cmd.herestrings)
    for doc, feed in zip([*cmd.heredocs, *([None] * len(cmd.herestrings))], feeds, strict=True):
        subs = _subs(feed, outer, result, where, placeholders)
        label = "heredoc" if doc is not None else "here-string"
        head = (label, doc.delimiter if doc else "", doc.quoted if doc else None)
        if stdin == "script":
            text = feed.text if doc is not None else feed.text + "\n"
            words = [Word(text=text, states=feed.states, raw=feed.raw)]
            out.append(
                (
                    *head,
                    _nested(words, outer, result, f"{where}{label} read as a script", placeholders),
                    subs,
                )
            )
        elif stdin == "data":
            _data(feed, outer, result, f"{where}{label} data", option=False)
            out.append((*head, feed.text, subs))
        else:
            _refuse(feed, result, f"{where}{label} fed to a program that may interpret it")
            out.append((*head, feed.text, subs))
    return tuple(out)
