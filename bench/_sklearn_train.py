"""scikit-learn's side of `npm run bench -- train`: fits RandomForestRegressor on the data that bench/train.ts
wrote (raw little-endian float64 files) and prints one JSON line: fit time, test MAE, single-row predict time.

usage: /usr/bin/python3 bench/_sklearn_train.py <dir> <train_rows> <test_rows> <features> <trees> <max_depth> <seed>
"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor


def main() -> None:
    folder = sys.argv[1]
    train_rows, test_rows, features, trees, max_depth, seed = (int(a) for a in sys.argv[2:8])
    x = np.fromfile(f"{folder}/x_train.f64", dtype="<f8").reshape(train_rows, features)
    y = np.fromfile(f"{folder}/y_train.f64", dtype="<f8")
    x_test = np.fromfile(f"{folder}/x_test.f64", dtype="<f8").reshape(test_rows, features)
    y_test = np.fromfile(f"{folder}/y_test.f64", dtype="<f8")

    model = RandomForestRegressor(
        n_estimators=trees, max_depth=max_depth, max_features=1.0, n_jobs=1, bootstrap=True, random_state=seed
    )
    started = time.perf_counter()
    model.fit(x, y)
    fit_s = time.perf_counter() - started
    mae = float(np.mean(np.abs(model.predict(x_test) - y_test)))

    calls = []
    for i in range(50):
        row = x_test[i : i + 1]
        started = time.perf_counter()
        model.predict(row)
        calls.append(time.perf_counter() - started)
    infer_us = float(np.median(calls) * 1e6)

    print(json.dumps({"fit_s": fit_s, "mae": mae, "infer_us": infer_us, "sklearn": __import__("sklearn").__version__}))


if __name__ == "__main__":
    main()
