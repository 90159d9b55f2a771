"""Where a retrieval fails although the swath saw the cell.

LPRM and JAXA drop a retrieval for frozen soil or snow, ice sheets, dense vegetation, radio
frequency interference (RFI), open water inside the footprint and heavy rain at overpass time.
Each is modelled from a plausible proxy, since no real ancillary data ship with the package:

* **Frozen soil / snow**: surface temperature below 0 C, from a climatology (annual mean
  ``44 cos^2(lat) - 7`` C, seasonal half-range ``3 + 16 sin^2(lat)`` C, 40 % smaller in the
  maritime south, coldest on day 20 in the north; extratropical interiors colder with a wider
  range, by the same upwind continentality as the rain climate), a night/day offset by pass
  (01:30 colder than 13:30), a lapse rate of 6 C/km over a highland proxy (Gaussian bumps for
  the major plateaus and ranges; no DEM is shipped) and a 600 km weather anomaly (standard
  deviation 1.5 C in the tropics to 4 C at the poles, 3-day mean). Temperature is smooth, so
  it is computed on the 0.5 deg weather grid and interpolated.
* **Ice sheets**: Greenland and everything south of 60 S never retrieve.
* **Dense vegetation**: the wettest tropical cells (rainforest proxy) fail now and then.
* **RFI**: persistent ~50-150 km hotspots over the USA, Europe and East Asia, where C-band
  RFI is widespread, failing most days.
* **Water / coast**: the probability of failure grows with the water fraction around the cell
  (within ~0.75 deg, the footprint scale).
* **Heavy rain**: the day's strongest storm cores.

Probabilities are calibrated against the real LPRM files of April 2015 (docs/synth.md).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sgdsm_cloud.landmask import excluded_regions, global_land_fraction
from sgdsm_cloud.synth.config import Crop
from sgdsm_cloud.synth.field import KAPPA, WINTER_PEAK_DOY, SoilMoistureField, seasonal_cosine
from sgdsm_cloud.synth.noise import cell_uniform
from sgdsm_cloud.synth.streams import Stream

# (lon, lat, east-west and north-south half-widths in degrees, height in km)
HIGHLANDS = (
    (88.0, 33.0, 9.0, 4.0, 4.6),  # Tibetan Plateau
    (75.0, 39.0, 6.0, 3.0, 3.2),  # Pamir, Tian Shan, Hindu Kush
    (100.0, 47.0, 10.0, 4.0, 1.6),  # Mongolian Plateau
    (55.0, 32.0, 8.0, 4.0, 1.4),  # Iranian Plateau
    (35.0, 39.0, 5.0, 2.0, 1.2),  # Anatolia
    (10.0, 46.3, 3.0, 1.0, 1.8),  # Alps
    (39.0, 9.0, 3.0, 4.0, 2.3),  # Ethiopian Highlands
    (28.0, -27.0, 5.0, 4.0, 1.3),  # Highveld
    (-108.0, 41.0, 3.0, 7.0, 1.8),  # Rocky Mountains
    (-103.0, 23.0, 4.0, 4.0, 1.8),  # Mexican Plateau
    (-76.0, 2.0, 2.0, 8.0, 2.5),  # Northern Andes
    (-68.0, -18.0, 3.0, 6.0, 3.9),  # Altiplano
    (-70.0, -35.0, 1.5, 8.0, 1.8),  # Southern Andes
)
ANNUAL_OFFSET_C = -7.0
CONTINENTAL_COOLING_C = 8.0
CONTINENTAL_RANGE = 0.5
LAPSE_RATE_C_PER_KM = 6.0
ANOMALY_TROPICS_C = 1.5
ANOMALY_POLAR_EXTRA_C = 2.5
PASS_OFFSET_C = {"D": -2.0, "A": 4.0}
FREEZE_C = 0.0
WEATHER_PERSISTENCE_DAYS = 3
# (west, south, east, north) of the regions with widespread RFI
RFI_REGIONS = ((-125.0, 25.0, -67.0, 49.0), (-10.0, 36.0, 40.0, 60.0), (100.0, 20.0, 145.0, 45.0))
RFI_PATCH_THRESHOLD = 1.6  # ~5 % of a region's area
RFI_FAILURE = 0.8
VEGETATION_FAILURE = 0.04
COAST_WINDOW_DEG = 0.75
HEAVY_RAIN = 1.5 * KAPPA


def highland_elevation(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Elevation proxy in km on the (lat, lon) grid: a sum of Gaussian bumps."""
    lat2, lon2 = np.asarray(lat)[:, None], np.asarray(lon)[None, :]
    elevation = np.zeros((lat2.size, lon2.size))
    for x0, y0, sx, sy, height in HIGHLANDS:
        elevation += height * np.exp(-0.5 * (((lon2 - x0) / sx) ** 2 + ((lat2 - y0) / sy) ** 2))
    return elevation


def climatological_temperature(
    lat: np.ndarray, continentality: np.ndarray, doy: int, pass_: str
) -> np.ndarray:
    """Surface temperature (C) at sea level on a (lat, lon) grid for a day of year and overpass.

    ``continentality`` (0 maritime .. 1 deep inland, e.g. :func:`field.upwind_land`) cools the
    extratropical interiors and widens their seasonal range.
    """
    lat = np.asarray(lat, dtype="float64")[:, None]
    extratropical = np.clip((np.abs(lat) - 25.0) / 15.0, 0.0, 1.0)
    annual = 44.0 * np.cos(np.radians(lat)) ** 2 + ANNUAL_OFFSET_C
    annual = annual - CONTINENTAL_COOLING_C * extratropical * (continentality - 0.5)
    half_range = (3.0 + 16.0 * np.sin(np.radians(lat)) ** 2) * np.where(lat >= 0, 1.0, 0.6)
    half_range = half_range * (1.0 + CONTINENTAL_RANGE * (continentality - 0.5))
    return annual - half_range * seasonal_cosine(lat, doy, WINTER_PEAK_DOY) + PASS_OFFSET_C[pass_]


def weather_anomaly_scale(lat: np.ndarray) -> np.ndarray:
    """Standard deviation (C) of day-to-day temperature anomalies, growing towards the poles."""
    return (
        ANOMALY_TROPICS_C
        + ANOMALY_POLAR_EXTRA_C * np.sin(np.radians(np.asarray(lat, dtype="float64"))) ** 2
    )


def rfi_region_weight(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """About 1 inside the RFI regions and 0 outside, with ~1 deg soft edges."""
    lat2, lon2 = np.asarray(lat)[:, None], np.asarray(lon)[None, :]
    weight = np.zeros((lat2.size, lon2.size))
    for west, south, east, north in RFI_REGIONS:
        inside = (
            _soft_step(lon2 - west)
            * _soft_step(east - lon2)
            * _soft_step(lat2 - south)
            * _soft_step(north - lat2)
        )
        weight = np.maximum(weight, inside)
    return weight


def _soft_step(degrees_inside: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-degrees_inside))


def coast_failure_probability(land_nearby: np.ndarray) -> np.ndarray:
    """Chance that water in the footprint spoils the retrieval, from the nearby land fraction."""
    return np.clip(1.3 * (0.88 - land_nearby), 0.0, 1.0)


def land_nearby(res: float, crop: Crop) -> np.ndarray:
    """Mean land fraction in a ~COAST_WINDOW_DEG box around each cell of ``crop``."""
    half = max(1, round(COAST_WINDOW_DEG / res / 2))
    fraction = global_land_fraction(res).astype("float64")
    rows = np.clip(
        np.arange(crop.rows.start - half, crop.rows.stop + half), 0, fraction.shape[0] - 1
    )
    cols = np.arange(crop.cols.start - half, crop.cols.stop + half) % fraction.shape[1]
    block = fraction[np.ix_(rows, cols)]
    n = 2 * half + 1
    # Shifted sums in a fixed order (not cumulative sums), so any crop gives the same values.
    along_lat = sum(block[k : k + block.shape[0] - 2 * half] for k in range(n))
    box = sum(along_lat[:, k : k + along_lat.shape[1] - 2 * half] for k in range(n))
    return (box / n**2).astype("float32")


class RetrievalModel:
    """Retrieval success per cell and day over one crop, for a given truth field."""

    def __init__(self, seed: int, crop: Crop, field: SoilMoistureField) -> None:
        self.seed, self.crop, self.field = seed, crop, field
        lat, lon = crop.lat, crop.lon
        # Temperature is smooth: it is computed on the weather window and interpolated.
        self._weather_lat, weather_lon = field.weather_axes
        self._elevation = highland_elevation(self._weather_lat, weather_lon)
        self._anomaly_scale = weather_anomaly_scale(self._weather_lat)[:, None]
        self.ice = excluded_regions(lat, lon)
        rainforest = np.clip((field.wetness - 0.6) / 0.25, 0.0, 1.0) * np.exp(
            -((lat[:, None] / 15.0) ** 4)
        )
        patches = field.weather(field.weather_field(Stream.RFI, 0, 60.0)) > RFI_PATCH_THRESHOLD
        rfi = RFI_FAILURE * patches * (rfi_region_weight(lat, lon) > 0.5)
        coast = coast_failure_probability(land_nearby(crop.res, crop))
        self.static_failure = 1 - (1 - VEGETATION_FAILURE * rainforest) * (1 - rfi) * (1 - coast)
        self._anomalies: dict[dt.date, np.ndarray] = {}

    def succeeded(
        self, date: dt.date, pass_: str, temperature: np.ndarray | None = None
    ) -> np.ndarray:
        """Boolean (lat, lon): True where a retrieval would succeed if the swath saw the cell.

        ``temperature``: the day's :meth:`temperature`, when the caller has it already.
        """
        if temperature is None:
            temperature = self.temperature(date, pass_)
        frozen = temperature < FREEZE_C
        heavy_rain = self.field.rain(date) > HEAVY_RAIN
        key = 2 * date.toordinal() + (pass_ == "A")
        chance = cell_uniform(
            self.seed, Stream.RETRIEVAL, key, self.crop.rows, self.crop.cols, self.crop.res
        )
        return ~(frozen | self.ice | heavy_rain | (chance < self.static_failure))

    def temperature(self, date: dt.date, pass_: str) -> np.ndarray:
        """Surface temperature (C) on the crop at the pass's overpass time."""
        days = [date - dt.timedelta(days=k) for k in range(WEATHER_PERSISTENCE_DAYS)]
        self._anomalies = {d: self._anomaly(d) for d in days}
        anomaly = sum(self._anomalies[d] for d in days) / np.sqrt(WEATHER_PERSISTENCE_DAYS)
        doy = date.timetuple().tm_yday
        climate = climatological_temperature(self._weather_lat, self.field.upwind, doy, pass_)
        return self.field.weather(
            climate - LAPSE_RATE_C_PER_KM * self._elevation + self._anomaly_scale * anomaly
        )

    def _anomaly(self, date: dt.date) -> np.ndarray:
        if date in self._anomalies:
            return self._anomalies[date]
        return self.field.synoptic_field(Stream.TEMPERATURE, date.toordinal(), 600.0)
