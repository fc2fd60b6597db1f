"""Structural equation models: one engine around semopy, lavaan-equal output."""
