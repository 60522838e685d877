"""Imports every extractor module so that each registers its models in the registry."""

from . import segformer  # noqa: F401
