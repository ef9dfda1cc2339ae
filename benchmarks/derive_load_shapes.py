"""Derive the 24-hour load shapes in ``catalogs/load_shapes.toml`` from local copies of public data.

Nothing is downloaded: every input is a local path given on the command line.

  python benchmarks/derive_load_shapes.py \
      --azure-notebook  AzurePublicDataset/analysis/AzureLLMInferenceDataset2024.ipynb \
      --burstgpt-figure BurstGPT/img/Fig3-4.png \
      --servegen-language ServeGen/data/language

Sources (all public GitHub repositories):

* ``Azure/AzurePublicDataset`` ``analysis/AzureLLMInferenceDataset2024.ipynb``: the notebook that ships
  with the Azure LLM inference trace 2024 (DynamoLLM, HPCA 2025).  The week-long CSVs are hosted outside
  the repository, but the committed notebook holds, as PNG output, the plot of *invocations per minute*
  over the whole week for the Coding and Conversation traces (cell "Analysis over time").  We digitise
  those two plots: per pixel column, the midpoint of the drawn line's vertical extent, measured from the
  x axis (y = 0, the plot uses ``ylim=0``).  Columns map linearly to time between the left spine (first
  minute) and right spine (last minute, 7 days later).  As a check, the digitised weekly mean per minute
  is compared with the trace's row count printed in the same notebook (must agree within 3%).
* ``HPMLL/BurstGPT`` ``img/Fig3-4.png`` (README "Figure 2: Daily Periodicity in BurstGPT"): box plots of
  request count per hour of day across the days of the first two months of the trace.  We read the
  median line of each of the 24 boxes of the "ChatGPT (Conv.)" panel; the y origin is the lowest y tick
  (labelled 0 in the figure).  Boxes too small to show a median line use the box's centre.
* ``alibaba/ServeGen`` ``data/language/<model>/chunk-*-trace.csv``: per-client request rate (req/s) in
  600 s windows over 14 days for three language models served by Alibaba Cloud Model Studio's API.
  Column 0 is seconds from 00:00 of the first day, column 1 the client's mean rate in the window.

Each shape is normalised to mean 1.0 over the 24 hours.
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import re
import struct
import zlib

import numpy as np


# --------------------------------------------------------------------------- PNG (stdlib only)
def read_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced RGB/RGBA PNG into an (h, w, 3) int array."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w, h, ch = 8, b"", 0, 0, 0
    while pos < len(data):
        ln, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + ln]
        pos += 12 + ln
        if typ == b"IHDR":
            w, h, bd, ct, _, _, il = struct.unpack(">IIBBBBB", body)
            if bd != 8 or il != 0 or ct not in (2, 6):
                raise ValueError(f"unsupported PNG (bit depth {bd}, colour type {ct}, interlace {il})")
            ch = 4 if ct == 6 else 3
        elif typ == b"IDAT":
            idat += body
        elif typ == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = w * ch
    out = np.zeros((h, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    i = 0
    for y in range(h):
        f = raw[i]
        cur = np.frombuffer(raw[i + 1:i + 1 + stride], dtype=np.uint8).astype(np.int32)
        i += 1 + stride
        if f == 2:
            cur = (cur + prev) & 255
        elif f in (1, 3, 4):
            cur = cur.copy()
            for x in range(stride):
                a = cur[x - ch] if x >= ch else 0
                b = prev[x]
                c = prev[x - ch] if x >= ch else 0
                if f == 1:
                    p = a
                elif f == 3:
                    p = (a + b) // 2
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
                cur[x] = (cur[x] + p) & 255
        out[y] = cur
        prev = cur
    return out.reshape(h, w, ch)[:, :, :3]


def normalise(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return w / w.mean()


# --------------------------------------------------------------------------- Azure LLM inference 2024
def azure_minute_series(png: np.ndarray):
    """Digitise a week-long 'invocations per minute' line plot. Returns (hours since start, value)."""
    black = png.sum(axis=2) < 100
    spine_cols = np.where(black.sum(axis=0) > 0.5 * png.shape[0] * 0.6)[0]
    spine_rows = np.where(black.sum(axis=1) > 0.5 * png.shape[1])[0]
    left, right = int(spine_cols.min()), int(spine_cols.max())
    top, bottom = int(spine_rows.min()), int(spine_rows.max())
    blue = (png[:, :, 2] - png[:, :, 0]) > 70          # matplotlib C0 (31,119,180) and its anti-aliasing
    cols = np.arange(left + 1, right)
    mid = np.empty(len(cols))
    for k, c in enumerate(cols):
        ys = np.where(blue[top + 1:bottom, c])[0]
        if len(ys) == 0:
            raise ValueError(f"no line pixels in column {c}")
        mid[k] = (ys.min() + ys.max()) / 2 + top + 1
    # grid lines are light grey (176,176,176); pandas puts them at every y tick (1000, 2000, ...)
    grey = np.abs(png - 176).sum(axis=2) < 6
    grid = np.where(grey.sum(axis=1) > 0.2 * (right - left))[0]
    grid = grid[(grid > top) & (grid < bottom)]
    px_per_unit = float(np.mean(np.diff(grid))) / 1000.0  # one grid step = 1000 invocations/minute
    value = (bottom - mid) / px_per_unit
    hours = (cols - left) / (right - left) * 168.0
    return hours, value


def azure_shapes(nb_path: str):
    nb = json.load(open(nb_path))
    cells = nb["cells"]
    rows = {}
    for c in cells:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"]).strip()
        for name in ("Coding", "Conversation"):
            if src == f'df_traces["{name}"]':
                txt = "".join(c["outputs"][0]["data"]["text/plain"])
                rows[name] = int(re.search(r"\[(\d+) rows", txt).group(1))
    plots = None
    for c in cells:
        if "plt_invocations_time(df_trace)" in "".join(c["source"]):
            plots = [base64.b64decode(o["data"]["image/png"]) for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert plots and len(plots) == 2, "expected the Coding and Conversation invocations-per-minute plots"
    out = {}
    for name, png_bytes in zip(("Coding", "Conversation"), plots):
        hours, value = azure_minute_series(read_png(png_bytes))
        true_mean = rows[name] / (7 * 24 * 60)
        check = value.mean() / true_mean
        assert abs(check - 1) < 0.03, (name, check)
        day = (hours // 24).astype(int)
        hour = (hours % 24).astype(int)
        per_day = np.array([[value[(day == d) & (hour == h)].mean() for h in range(24)] for d in range(7)])
        out[name] = dict(per_day=per_day, check=check, true_mean=true_mean)
    return out


# --------------------------------------------------------------------------- BurstGPT Fig. 3-4
def burstgpt_conv_medians(png: np.ndarray) -> np.ndarray:
    black = png.sum(axis=2) < 100
    spine_cols = np.where(black.sum(axis=0) > 300)[0]
    # spines come in (possibly 2-px) pairs: left/right of each of the 4 panels; take the first panel
    groups = np.split(spine_cols, np.where(np.diff(spine_cols) > 3)[0] + 1)
    left, right = groups[0].mean(), groups[1].mean()
    spine_rows = np.where(black[:, int(left) + 5:int(right) - 5].sum(axis=1) > 0.9 * (right - left - 10))[0]
    top, bottom = int(spine_rows.min()) + 2, int(spine_rows.max()) - 2
    # y ticks: short dark marks just left of the left spine; lowest one is labelled 0
    ticks = np.where((png[top:bottom, int(left) - 14:int(left) - 1].sum(axis=2) < 300).sum(axis=1) >= 5)[0] + top
    tick_groups = np.split(ticks, np.where(np.diff(ticks) > 1)[0] + 1)
    y0 = tick_groups[-1].mean()
    pitch = (right - left) / 24
    med = np.empty(24)
    for k in range(24):
        cx = left + (k + 0.5) * pitch
        x0, x1 = int(round(cx - pitch * 0.25)), int(round(cx + pitch * 0.25))
        sub = png[top:bottom, x0:x1 + 1]
        cyan = ((sub[:, :, 2] - sub[:, :, 0]) > 100).mean(axis=1) > 0.5
        grey = ((sub[:, :, 0] < 140) & (np.abs(sub[:, :, 2] - sub[:, :, 0]) < 30)).mean(axis=1) > 0.8
        cand, r, n = [], 0, len(grey)
        while r < n:
            if grey[r]:
                s = r
                while r < n and grey[r]:
                    r += 1
                if cyan[max(s - 2, 0):s].any() and cyan[r:r + 2].any():
                    cand.append((s + r - 1) / 2)
            else:
                r += 1
        if len(cand) == 1:
            m = cand[0]
        else:  # box too small to show cyan around the median: take the centre of the box body
            xb0, xb1 = int(round(cx - pitch * 0.3)), int(round(cx + pitch * 0.3))
            body = np.where((png[top:bottom, xb0:xb1 + 1].sum(axis=2) < 600).mean(axis=1) > 0.9)[0]
            m = (body.min() + body.max()) / 2
        med[k] = y0 - (m + top)   # pixels above the zero tick (scale cancels on normalisation)
    return med


# --------------------------------------------------------------------------- ServeGen
def servegen_hourly(language_dir: str):
    totals = {}
    t = None
    for model in ("m-large", "m-mid", "m-small"):
        files = sorted(glob.glob(os.path.join(language_dir, model, "chunk-*-trace.csv")))
        assert files, f"no traces under {language_dir}/{model}"
        tot = None
        for f in files:
            a = np.genfromtxt(f, delimiter=",", usecols=(0, 1))
            tot = a[:, 1] if tot is None else tot + a[:, 1]
            t = a[:, 0]
        totals[model] = (tot, len(files))
    series = sum(v[0] for v in totals.values())
    ok = np.all([v[0] > 0 for v in totals.values()], axis=0)   # a model summing to 0 = missing window
    hour = ((t % 86400) // 3600).astype(int)
    prof = np.array([series[ok & (hour == h)].mean() for h in range(24)])
    return prof, {m: n for m, (_, n) in totals.items()}, int((~ok).sum()), len(t)


def fmt(w: np.ndarray) -> str:
    return "[" + ", ".join(f"{x:.3f}" for x in w) + "]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--azure-notebook")
    ap.add_argument("--burstgpt-figure")
    ap.add_argument("--servegen-language")
    args = ap.parse_args()

    if args.azure_notebook:
        az = azure_shapes(args.azure_notebook)
        code = az["Coding"]["per_day"]          # days: Fri 10, Sat 11, Sun 12, Mon 13 .. Thu 16 May 2024 (UTC)
        conv = az["Conversation"]["per_day"]    # days: Sun 12, Mon 13 .. Sat 18 May 2024 (UTC)
        for name, pd_, wk, we in (("Coding", code, [0, 3, 4, 5, 6], [1, 2]),
                                  ("Conversation", conv, [1, 2, 3, 4, 5], [0, 6])):
            w = normalise(pd_[wk].mean(axis=0))
            print(f"# Azure 2024 {name}: digitised/true weekly mean = {az[name]['check']:.3f};"
                  f" weekday peak/avg {w.max():.2f}, min {w.min():.2f};"
                  f" weekend-day/weekday-day volume = {pd_[we].mean() / pd_[wk].mean():.2f}")
            print(f"weights = {fmt(w)}")
    if args.burstgpt_figure:
        med = burstgpt_conv_medians(read_png(open(args.burstgpt_figure, "rb").read()))
        w = normalise(med)
        print(f"# BurstGPT ChatGPT (Conv.) hourly medians: peak/avg {w.max():.2f}, min {w.min():.2f}")
        print(f"weights = {fmt(w)}")
    if args.servegen_language:
        prof, clients, missing, n = servegen_hourly(args.servegen_language)
        w = normalise(prof)
        print(f"# ServeGen language m-large+m-mid+m-small ({clients} clients), {n} windows,"
              f" {missing} dropped as missing: peak/avg {w.max():.2f}, min {w.min():.2f}")
        print(f"weights = {fmt(w)}")


if __name__ == "__main__":
    main()
