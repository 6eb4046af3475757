"""Screens of the app: one modal per module."""
