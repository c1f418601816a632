"""One module per feature; handlers/registry.py joins them in order."""
