"""The SGD-SM network, its checkpoints, inference on arrays and self-supervised training.

Importing this package is cheap; torch loads with the modules that need it
(``network``, ``partialconv``, ``checkpoint``, ``infer``, ``train``).
"""

from sgdsm_cloud.model.config import ModelConfig, TrainConfig

__all__ = ["ModelConfig", "TrainConfig"]
