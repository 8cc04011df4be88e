"""Application services: what the API, the CLI and the web app do, in one place.

Above the workflows and below the entry points: starting and finding incidents and sending them
people's actions (`incidents`), Paste → Parse (`parsing`), and the audit trail built from the
workflows' histories (`audit`). The entry points stay thin: they authenticate, validate and call
these.
"""
