#!/usr/bin/env python3
"""Writes small PNG and PPM images, with their pixels as .npy, for Tessera's image reader tests.

The PNGs are encoded here by hand so that every row filter (none, sub, up, average, Paeth) and
the grey, grey+alpha, RGB and RGBA colour types occur. Run once and commit the files.
"""
import os
import struct
import zlib

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TesseraModelsTests", "Fixtures", "images")


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def png(path, pixels, colour_type):
    height, width, channels = pixels.shape
    raw = bytearray()
    previous = np.zeros(width * channels, dtype=np.int64)
    for y in range(height):
        row = pixels[y].reshape(-1).astype(np.int64)
        kind = y % 5
        raw.append(kind)
        for x in range(width * channels):
            left = row[x - channels] if x >= channels else 0
            up = previous[x]
            up_left = previous[x - channels] if x >= channels else 0
            predicted = [0, left, up, (left + up) // 2, paeth(left, up, up_left)][kind]
            raw.append((row[x] - predicted) & 0xFF)
        previous = row

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")
    open(path, "wb").write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, size=(7, 9, 3), dtype=np.uint8)
    png(os.path.join(OUT, "rgb.png"), rgb, 2)
    alpha = rng.integers(0, 256, size=(7, 9, 1), dtype=np.uint8)
    png(os.path.join(OUT, "rgba.png"), np.concatenate([rgb, alpha], axis=2), 6)
    grey = rng.integers(0, 256, size=(7, 9, 1), dtype=np.uint8)
    png(os.path.join(OUT, "grey_alpha.png"), np.concatenate([grey, alpha], axis=2), 4)
    np.save(os.path.join(OUT, "grey.npy"), np.repeat(grey, 3, axis=2))
    with open(os.path.join(OUT, "rgb.ppm"), "wb") as f:
        f.write(b"P6\n# written by make_image_fixtures.py\n9 7\n255\n" + rgb.tobytes())
    np.save(os.path.join(OUT, "rgb.npy"), rgb)


if __name__ == "__main__":
    main()
