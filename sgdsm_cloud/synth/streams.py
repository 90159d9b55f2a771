"""Stream ids of the random fields: one per physical quantity, so draws never collide."""

from enum import IntEnum


class Stream(IntEnum):
    WETNESS_ANOMALY = 1
    POROSITY = 2
    RESIDUAL = 3
    STORM_CELLS = 4
    STORM_SYSTEMS = 5
    TEMPERATURE = 6
    RFI = 7
    RETRIEVAL = 8
    RETRIEVAL_ERROR = 9
    RETRIEVAL_ERROR_TAIL = 10
    RETRIEVAL_ERROR_ASCENDING = 11  # each pass has its own retrieval error on the same day
    RETRIEVAL_ERROR_TAIL_ASCENDING = 12
