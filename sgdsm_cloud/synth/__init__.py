"""Synthetic AMSR2 soil-moisture archives in the real file formats, with the complete truth.

See docs/synth.md for the physics, the gap model and its calibration against real files.
"""

from sgdsm_cloud.synth.archive import WrittenArchive, synthesize, write_archive
from sgdsm_cloud.synth.config import SynthConfig

__all__ = ["SynthConfig", "WrittenArchive", "synthesize", "write_archive"]
