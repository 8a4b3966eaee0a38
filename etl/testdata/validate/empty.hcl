# An empty pipeline is an error, not a no-op.
