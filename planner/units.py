"""Named unit constants. True constants only: no tunable numbers live here.

Tunable numbers (efficiency factors, memory headroom, latency of a collective)
live in ``catalogs/defaults.toml`` with a source and a note of how they were set.
"""

from __future__ import annotations

BITS_PER_BYTE: float = 8.0
BYTES_PER_GB: float = 1e9  # decimal gigabyte, as vendors quote memory and bandwidth
BYTES_PER_MIB: float = 2.0**20  # binary mebibyte, as nvidia-smi and rocm-smi report memory
FLOPS_PER_TFLOP: float = 1e12
MS_PER_SECOND: float = 1e3
SECONDS_PER_HOUR: float = 3600.0
SECONDS_PER_DAY: float = 86400.0
US_PER_SECOND: float = 1e6

#: Matrix-multiply FLOPs per multiply-accumulate (one multiply + one add).
FLOPS_PER_MAC: float = 2.0
#: Training FLOPs per parameter per token: forward (2) + backward (4); Kaplan et al. 2020, eq. 2.1.
TRAINING_FLOPS_PER_PARAM_TOKEN: float = 6.0
#: Forward-only FLOPs per parameter per token (inference, or a teacher's forward pass).
FORWARD_FLOPS_PER_PARAM_TOKEN: float = 2.0
TOKENS_PER_MILLION: float = 1e6
#: Mean days per calendar month (365.25 / 12).
DAYS_PER_MONTH: float = 365.25 / 12.0
MONTHS_PER_YEAR: float = 12.0
#: Mean hours per calendar month (365.25 · 24 / 12).
HOURS_PER_MONTH: float = 365.25 * 24.0 / 12.0
WATTS_PER_KW: float = 1000.0
#: Mean days per year (365.25), consistent with DAYS_PER_MONTH.
DAYS_PER_YEAR: float = 365.25
