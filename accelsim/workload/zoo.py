"""Imports every extractor module so that each registers its models in the registry."""

from . import segformer  # noqa: F401
from . import swin  # noqa: F401
from . import segmenter  # noqa: F401
from . import resnet  # noqa: F401
from . import detr  # noqa: F401
from . import ofa  # noqa: F401
from . import efficientnet  # noqa: F401
