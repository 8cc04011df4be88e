"""The `ddrun` command line: a thin transport over the API, Temporal and the domain."""
