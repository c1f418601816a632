"""The Bot API edge: the HTTP transport, the shared send schedule, text splitting, the photo."""
