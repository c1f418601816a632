"""The one aiohttp server: health, metrics, webhooks, landing pages, the widget."""
