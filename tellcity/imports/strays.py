"""Positions far from the bulk of an export, left out of an imported city: its boundary grows
to cover every report, so one row at Paris in a New York file would put the city's centre in
the Atlantic.

The rule, robust to a few stray rows however far: the bulk's centre is the median latitude and
the median longitude of the file's positions; a position is stray when it lies more than
FACTOR times the median distance to that centre away from it (and never within
MIN_RADIUS_KM, for a file whose rows nearly all sit on one spot). In the real samples the
farthest rows lie 3 times (Los Angeles) and 10 times (Baltimore, whose water service reaches
into the county) the median distance away; a stray row from another city is hundreds of times
it. Distances are on a flat map around the centre (good to a few per cent within a few hundred
kilometres, and far beyond the radius anyway); the rule assumes the city does not straddle the
180th meridian.
"""

import math
from array import array
from dataclasses import dataclass

import numpy as np

FACTOR = 20
MIN_RADIUS_KM = 10.0
#: Kilometres in a degree of latitude.
KM_PER_DEGREE = 111.2


@dataclass(frozen=True)
class Bulk:
    """Where most of a file's positions lie: within `radius_km` of (lat, lon)."""

    lat: float
    lon: float
    radius_km: float

    def __post_init__(self):
        # Compared in degrees of latitude, squared: no square root or cosine for each row.
        object.__setattr__(self, "_scale", math.cos(math.radians(self.lat)))
        object.__setattr__(self, "_limit", (self.radius_km / KM_PER_DEGREE) ** 2)

    @classmethod
    def of(cls, lats: array, lons: array) -> "Bulk | None":
        """The bulk of these positions; None when there are none."""
        if not lats:
            return None
        lat_values, lon_values = np.asarray(lats), np.asarray(lons)
        lat, lon = float(np.median(lat_values)), float(np.median(lon_values))
        scale = math.cos(math.radians(lat))
        distances = KM_PER_DEGREE * np.hypot(lat_values - lat, (lon_values - lon) * scale)
        radius = max(FACTOR * float(np.median(distances)), MIN_RADIUS_KM)
        return cls(lat, lon, radius)

    def is_far(self, lat: float, lon: float) -> bool:
        """Whether (lat, lon) lies outside the bulk."""
        north, east = lat - self.lat, (lon - self.lon) * self._scale
        return north * north + east * east > self._limit
