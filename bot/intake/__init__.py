"""What comes in from the shop: the intake HTTP API, events, deep links, CSV imports."""
