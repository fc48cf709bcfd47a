"""Zhili's store: schema, connection, demo generator and import."""
