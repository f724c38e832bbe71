"""The trust node: aiohttp application, storage, auth, configuration and the CLI."""
