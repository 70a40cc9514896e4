"""The directory of services: model, data loading, opening times, capacity, search, ORUK."""
