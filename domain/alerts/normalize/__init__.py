"""One pure function per source turning its webhook body into canonical Alerts."""
