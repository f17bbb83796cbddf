"""Old-photo restoration: damage detection, inpainting, global restoration, finishing."""

from daguerre.restore.context import RestoreOptions, RestoreResult
from daguerre.restore.pipeline import RestorePipeline, restore

__all__ = ["RestoreOptions", "RestorePipeline", "RestoreResult", "restore"]
