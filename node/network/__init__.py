"""Actions on the network between nodes (models/network), called by the CLI and the pages."""
