"""Light helpers of the `generate` kind (spec, chat template, contracts): no torch imports here."""
