"""Redis itself: keys, the connection, the embedded server, and the small per-user stores."""
