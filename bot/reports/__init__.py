"""Managers' reports: figures from analytics composed into text, charts and CSV, and sent."""
