"""Vendor webhook bodies exactly as each source sends them (lenient: vendors add fields)."""
