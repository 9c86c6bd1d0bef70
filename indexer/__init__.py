"""Thai analysis and search over the archive."""
