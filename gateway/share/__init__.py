"""The share link's door: an invoice's own page and its PDF, for whoever holds the link."""
