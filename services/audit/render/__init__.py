"""Render an audit export into files a person reads: CSV for spreadsheets, PDF for auditors.

Byte generation only (no network); the JSON Lines export stays the verifiable evidence.
"""

from services.audit.render.csv_export import render_csv
from services.audit.render.pdf import render_pdf

__all__ = ["render_csv", "render_pdf"]
