"""The synthetic soil-moisture truth: climate, rain pulses and exponential dry-down.

For a land cell x and day t (volumetric, m3 m-3)::

    theta(x, t) = base(x, t) + (porosity(x) - base(x, t)) * (1 - exp(-S(x, t)))
    S(x, t)     = S(x, t-1) * exp(-1 / tau(x, t)) + P(x, t)          (daily recursion)

* ``porosity`` (0.30..0.50) and ``residual`` (0.02..0.06) vary with a ~25 km soil texture.
  ``base`` = residual + 0.5 W (porosity - residual), 30 % higher at the peak of the cold
  season, is the level the soil dries down to; W in (0, 1) is the climatological wetness.
* ``S`` is the antecedent-rain store: each rain pulse ``P`` adds to it and it decays with the
  per-cell e-folding time ``tau`` = 2 + 10 W days, 40 % longer at the peak of the cold season.
  The recursion runs over the last ``MEMORY_DAYS`` days from S = 0, so a day's value depends
  only on its own past, never on the first day requested.
* Rain: ``P = KAPPA * max(0, G - q)``, where ``G`` is a new unit Gaussian field every day that
  mixes storm cells (~80 km) and synoptic systems (~400 km), and the threshold
  ``q = 2.2 - 2.2 W'`` sets how often it rains (a few % of days in deserts, up to half the days
  in the wet tropics). W' is W seasonally modulated: +-30 % everywhere and +-0.35 in the
  monsoon belts near 15 deg, wettest in the local summer (hemispheres in antiphase).
* Climatological wetness ``W = sigmoid(z)``: a latitude profile (wet equatorial belt, dry
  subtropics near 24 deg, moist 45-70 deg), minus upwind continentality, plus a 400 km anomaly
  field. Continentality is the land fraction within ~600 km, 6 deg upwind (east under the
  trade winds, west under the westerlies): it dries continental interiors and the west coasts
  of the subtropics.

The weather (``P``, ``S``) lives on a global 0.5 deg grid (fields of 400 km and more are drawn
on a 2 deg grid) and is interpolated to the output grid; the soil texture lives on the output
grid. Sea cells are NaN.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

from sgdsm_cloud.grid import global_lat, global_lon
from sgdsm_cloud.landmask import LAND_THRESHOLD, global_land_fraction
from sgdsm_cloud.synth.config import Crop
from sgdsm_cloud.synth.noise import GaussianFilter, Resampler, gaussian_rows
from sgdsm_cloud.synth.streams import Stream

WEATHER_RES = 0.5  # storm cells and the antecedent-rain store
SYNOPTIC_RES = 2.0  # fields correlated over >= 400 km
MEMORY_DAYS = 60
KAPPA = 1.4
POROSITY_RANGE = (0.30, 0.50)
RESIDUAL_RANGE = (0.02, 0.06)
DAYS_PER_YEAR = 365.25
SUMMER_PEAK_DOY = 196  # northern hemisphere; the southern one is half a year later
WINTER_PEAK_DOY = 20


def seasonal_cosine(lat: np.ndarray, doy: int, peak_doy: float) -> np.ndarray:
    """cos of the phase to the northern-hemisphere peak, in antiphase south of the equator."""
    phase = np.cos(2 * np.pi * (doy - peak_doy) / DAYS_PER_YEAR)
    return np.where(np.asarray(lat) >= 0, phase, -phase)


def latitude_profile(lat: np.ndarray) -> np.ndarray:
    """The zonal part of the wetness logit: wet tropics, dry subtropics, moist mid/high latitudes."""
    a = np.abs(lat)
    return (
        -0.2
        + 2.0 * np.exp(-((lat / 11.0) ** 2))
        - 1.6 * np.exp(-(((a - 24.0) / 9.0) ** 2))
        + 1.3 * np.exp(-(((a - 58.0) / 14.0) ** 2))
    )


def climate_wetness(lat: np.ndarray, upwind: np.ndarray, anomaly: np.ndarray) -> np.ndarray:
    """Climatological wetness W in (0, 1) from latitude, upwind land fraction and an anomaly."""
    # Convective rain in the equatorial belt cares less about the distance to the sea.
    continental = 1.0 - 0.8 * np.exp(-((lat / 12.0) ** 2))
    z = latitude_profile(lat) - 2.0 * continental * (upwind - 0.45) + 0.5 * anomaly
    return (1 / (1 + np.exp(-z))).astype("float32")


@lru_cache(maxsize=2)
def upwind_land(land_res: float) -> np.ndarray:
    """Land fraction within ~600 km, centred 6 deg upwind, on the global weather grid.

    Upwind is east under the trade winds (below ~25 deg) and west under the westerlies
    (beyond ~35 deg), blended in between. Built from the land fraction at ``land_res``.
    """
    fine = global_land_fraction(land_res).astype("float64")
    f = round(WEATHER_RES / land_res)
    land = fine.reshape(fine.shape[0] // f, f, fine.shape[1] // f, f).mean(axis=(1, 3))
    rows = np.arange(land.shape[0])
    near = GaussianFilter.of(WEATHER_RES, 600.0).apply(rows, lambda r: land[r])
    shift = round(6.0 / WEATHER_RES)
    westerlies = np.clip((np.abs(global_lat(WEATHER_RES)) - 25.0) / 10.0, 0.0, 1.0)[:, None]
    upwind = (1 - westerlies) * np.roll(near, -shift, axis=1) + westerlies * np.roll(
        near, shift, axis=1
    )
    return np.clip(upwind, 0.0, 1.0).astype("float32")


class SoilMoistureField:
    """The truth over one crop of the global grid, evaluated day by day.

    Consecutive days cost one new weather day each; the last ``MEMORY_DAYS`` are kept.

    Attributes:
        weather: resampler from the weather grid's window onto the crop.
        weather_axes: latitudes and longitudes of the weather window.
        upwind: upwind land fraction on the weather window.
        wetness: climatological wetness W on the crop.
    """

    def __init__(self, seed: int, crop: Crop) -> None:
        self.seed, self.crop = seed, crop
        self.land_fraction = crop.of(global_land_fraction(crop.res))
        self.land = self.land_fraction >= LAND_THRESHOLD
        self.weather = Resampler(WEATHER_RES, crop.lat, crop.lon)
        self.weather_axes = (
            global_lat(WEATHER_RES)[self.weather.rows],
            global_lon(WEATHER_RES)[self.weather.cols],
        )
        self._weather_lat = self.weather_axes[0][:, None]
        self._synoptic = Resampler(SYNOPTIC_RES, *self.weather_axes)
        self.upwind = self.weather.window(upwind_land(crop.res))
        anomaly = self.synoptic_field(Stream.WETNESS_ANOMALY, 0, 400.0)
        self._wetness = climate_wetness(self._weather_lat, self.upwind, anomaly)
        self.wetness = self.weather(self._wetness)
        self.porosity = np.clip(0.40 + 0.035 * self._texture(Stream.POROSITY), *POROSITY_RANGE)
        self.residual = np.clip(0.035 + 0.008 * self._texture(Stream.RESIDUAL), *RESIDUAL_RANGE)
        self._weather_days: dict[dt.date, tuple[np.ndarray, np.ndarray]] = {}

    def weather_field(self, stream: int, key: int, scale_km: float) -> np.ndarray:
        """A unit Gaussian field on the weather window (scales of ~50-300 km)."""
        return self.weather.window_rows(
            gaussian_rows(self.seed, stream, key, WEATHER_RES, scale_km, self.weather.rows)
        )

    def synoptic_field(self, stream: int, key: int, scale_km: float) -> np.ndarray:
        """A unit Gaussian field on the weather window, drawn on the coarse synoptic grid."""
        rows = self._synoptic.rows
        return self._synoptic(
            self._synoptic.window_rows(
                gaussian_rows(self.seed, stream, key, SYNOPTIC_RES, scale_km, rows)
            )
        )

    def _texture(self, stream: Stream) -> np.ndarray:
        """Soil texture: a unit Gaussian field with ~25 km structure on the crop."""
        rows = np.arange(self.crop.rows.start, self.crop.rows.stop)
        return gaussian_rows(self.seed, stream, 0, self.crop.res, 25.0, rows)[:, self.crop.cols]

    def rain(self, date: dt.date) -> np.ndarray:
        """The rain pulse P of ``date`` on the crop (0 where it does not rain)."""
        return self.weather(self._weather(date)[0])

    def truth(self, date: dt.date) -> np.ndarray:
        """The complete field on ``date``: float32 (lat, lon) m3 m-3, NaN off land."""
        window = [date - dt.timedelta(days=k) for k in range(MEMORY_DAYS - 1, -1, -1)]
        keep = set(window)
        self._weather_days = {d: v for d, v in self._weather_days.items() if d in keep}
        store = np.zeros_like(self._wetness)
        for day in window:
            pulse, decay = self._weather(day)
            store = store * decay + pulse
        winter = seasonal_cosine(self.crop.lat, date.timetuple().tm_yday, WINTER_PEAK_DOY)
        cold_season = (1 + 0.3 * winter[:, None]).astype("float32")
        base = self.residual + 0.5 * self.wetness * (self.porosity - self.residual) * cold_season
        theta = base - (self.porosity - base) * np.expm1(-self.weather(store))
        return np.where(self.land, theta, np.nan).astype("float32")

    def _weather(self, date: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """(rain pulse, store decay factor) of one day on the weather window, memoised."""
        if date not in self._weather_days:
            self._weather_days[date] = self._new_weather(date)
        return self._weather_days[date]

    def _new_weather(self, date: dt.date) -> tuple[np.ndarray, np.ndarray]:
        key, doy = date.toordinal(), date.timetuple().tm_yday
        cells = self.weather_field(Stream.STORM_CELLS, key, 80.0)
        systems = self.synoptic_field(Stream.STORM_SYSTEMS, key, 400.0)
        lat, wetness = self._weather_lat, self._wetness
        summer = seasonal_cosine(lat, doy, SUMMER_PEAK_DOY)
        monsoon = np.exp(-(((np.abs(lat) - 15.0) / 10.0) ** 2))
        wet_season = np.clip(wetness * (1 + 0.3 * summer) + 0.35 * monsoon * summer, 0.0, 1.0)
        pulse = KAPPA * np.maximum(0.0, 0.6 * cells + 0.8 * systems - (2.2 - 2.2 * wet_season))
        tau = (2.0 + 10.0 * wetness) * (1 + 0.4 * seasonal_cosine(lat, doy, WINTER_PEAK_DOY))
        return pulse.astype("float32"), np.exp(-1.0 / tau).astype("float32")
