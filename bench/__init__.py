"""`python -m bench`: the bot measured against references run side by side on one machine."""
