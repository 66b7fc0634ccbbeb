"""The consumer's data, made from a fixed seed: sensors.csv / sensors_test.csv.gz (a header, the
label column "species" third of seven) and curves.npz / curves_test.npz (x float64 [N, 8],
y float32 [N, 2]), and float_labels.npz (labels stored as floats). Usage: make_data.py OUT_DIR"""
import gzip
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(2024)


def sensors(n):
    species = rng.integers(0, 3, n)
    centres = np.array([[0, 2, 1, 4, 0, 1], [3, 0, 1, 1, 2, 0], [1, 1, 4, 0, 1, 3]], float)
    x = centres[species] * 10 + rng.normal(0, 12, (n, 6))  # not standardized on purpose
    lines = ["temp,humidity,species,light,sound,co2,motion"]
    for row, s in zip(x, species):
        cells = [f"{v:.4f}" for v in row]
        lines.append(",".join(cells[:2] + [str(s)] + cells[2:]))
    return "\n".join(lines) + "\n"


def curves(n):
    x = rng.uniform(-2, 2, (n, 8))
    y = np.stack([np.sin(x[:, 0]) + x[:, 1] * x[:, 2] / 2, x[:, 3] ** 2 / 2 - x[:, 4]], 1)
    return x, (y + rng.normal(0, 0.05, y.shape)).astype(np.float32)


with open(f"{out}/sensors.csv", "w") as f:
    f.write(sensors(600))
with gzip.open(f"{out}/sensors_test.csv.gz", "wt") as f:
    f.write(sensors(200))
for name, n in (("curves", 2000), ("curves_test", 500)):
    x, y = curves(n)
    np.savez_compressed(f"{out}/{name}.npz", x=x, y=y)
# Labels saved as floats (a common slip): the classifier must refuse them.
np.savez(f"{out}/float_labels.npz", x=rng.normal(size=(10, 6)).astype(np.float32),
         y=rng.integers(0, 3, 10).astype(np.float32))
