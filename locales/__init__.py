"""The bot's Fluent messages, locales/<language>/<feature>.ftl: a package so a wheel ships them."""
