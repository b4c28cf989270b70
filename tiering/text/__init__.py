"""Message catalogues, one module per area (see ``tiering.i18n``)."""
