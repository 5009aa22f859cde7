"""Light helpers of the `extract` kind (schema, normalisers, metrics): no torch imports here."""
