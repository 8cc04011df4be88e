"""The `ddrun` commands, one module per group; each has `register(app)`.

Rule for these modules: at the top only typer, the standard library and `schemas.enums`;
everything else is imported inside the command that needs it.
"""
