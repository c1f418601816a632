"""Telegram bot carrying the Help Refugees in Calais fundraiser."""
