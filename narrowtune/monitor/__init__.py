"""Maintenance: drift monitoring from the store, retraining from reviewer feedback, and the
model registry (promote / rollback). See `narrowtune monitor`, `retrain`, `promote`, `rollback`."""
