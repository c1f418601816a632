"""Broadcasts: subscribers, drafts, durable jobs on a Redis Stream, the engine, the report."""
