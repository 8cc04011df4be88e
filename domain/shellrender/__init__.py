"""Render alert values into commands so that, at every level of shell evaluation, they stay data.

`lexer` reads the bash subset runbooks use, `commands` knows which programs re-evaluate their
arguments (shells, ssh, kubectl/docker exec, wrappers, interpreters), `contexts` walks both to find
each placeholder's chain of quoting levels, `quoting` quotes for one level, and `render` puts it
together and re-reads its own output to prove the structure did not change.
"""
