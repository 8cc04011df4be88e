"""Infrastructure every process shares: the Temporal client and its payload codec, telemetry,
and the embedded Temporal dev server. Workers, the API, the CLI and the audit export use it."""
