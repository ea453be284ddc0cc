"""What the routers and the process share: config, transport, views, workers, charts, API, app."""
