"""Actions on the charter's paperwork (models/charter), called by the CLI and the pages."""
