"""Dense per-device and per-order state as numpy arrays with stable integer codes.

The hot path reads and writes these with fancy indexing instead of a Python dict per device: last receipt,
highest sequence seen, last accepted fix, GPS-lost counters, trail counters. Codes only grow, so an index
rebuilt after an order or activation change keeps them valid. JSON-safe through `to_json` / `from_json`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEVICE_FIELDS = {"rx": -1.0, "rx_seq": -1, "seq_max": -1, "seq_min": -1, "fix_t": np.nan, "fix_lon": np.nan, "fix_lat": np.nan,
                 "fix_acc": np.nan, "moving": 0, "lost_n": 0, "gps_t": np.nan, "batt_t": np.nan, "batt_level": np.nan,
                 "first_batt": np.nan, "last_charge": np.nan,
                 "nc_from": np.nan, "ci_next": 0.0, "alc_qt": np.nan, "alc_qtac": np.nan,
                 "nc_open": 0, "batt_open": 0, "rs_front": -1, "rs_held": 0,
                 "rs_unit": 0, "rs_steps": 0}  # fmt: skip
# gps_t: the device's last fix from GPS itself (GPS lost while moving, from motion reports)
# nc_from: start of the silence already raised as no_comms; ci_next: when a scheduled check-in can next be overdue;
# alc_qt, alc_qtac: the last of a run of quiet alcohol readings not yet folded into the device's curve state
# nc_open: a no-comms episode is open (closed by the next receipt); batt_open: bit 1 a low-battery, bit 2 a
# not-charging episode is open (closed by a charge, or the level back above the threshold)
# rs_front: the highest sequence released to the rules (resequence.py; -1: none yet); rs_held: rows held back;
# rs_unit / rs_steps: of the recent steps between its numbers, how many were by one (a counter is waited for)
ORDER_FIELDS = {"trail_n": 0, "trail_first": np.nan, "trail_last": np.nan, "p_level": 0, "um_fitted": -1,
                "um_rx": np.nan, "p_apart": np.nan, "pr_t": np.nan, "pr_d": np.nan,
                **{f"p{side}_{k}": v for side in "wv" for k, v in
                   (("t", np.nan), ("x", np.nan), ("y", np.nan), ("acc", np.nan), ("dev", -1), ("seq", -1))}}  # fmt: skip
# p_level and p{w,v}_*: proximity, the alert level reached and each party's latest position (device code, seq);
# um_fitted, um_rx: the unmonitored test's last verdict inputs (fitted, newest receipt), judged again on change
# p_apart: since when the pair has been judged apart (re-armed after `clear_s`); pr_t, pr_d: the victim fix the offender was first judged against, and the
# distance then (a silent victim: the offender must come closer than that)
_INT = {"rx_seq", "seq_max", "seq_min", "moving", "lost_n", "trail_n", "p_level", "pw_dev", "pw_seq", "pv_dev",
        "pv_seq", "um_fitted", "nc_open", "batt_open", "rs_front", "rs_held", "rs_unit", "rs_steps"}  # fmt: skip


def _alloc(fields: dict[str, Any], n: int) -> dict[str, np.ndarray]:
    return {k: np.full(n, v, dtype=np.int64 if k in _INT else np.float64) for k, v in fields.items()}


class Registry:
    def __init__(self) -> None:
        self.dev_code: dict[str, int] = {}
        self.order_code: dict[str, int] = {}
        self.dev_ids: list[str] = []
        self.order_refs: list[str] = []
        self.d = _alloc(DEVICE_FIELDS, 1024)
        self.o = _alloc(ORDER_FIELDS, 1024)

    def _grow(
        self, arrays: dict[str, np.ndarray], fields: dict[str, Any], need: int
    ) -> dict[str, np.ndarray]:
        size = len(next(iter(arrays.values())))
        if need <= size:
            return arrays
        new = _alloc(fields, max(need, size * 2))
        for k, v in arrays.items():
            new[k][:size] = v
        return new

    def device(self, device_id: str) -> int:
        code = self.dev_code.get(device_id)
        if code is None:
            code = self.dev_code[device_id] = len(self.dev_ids)
            self.dev_ids.append(device_id)
            self.d = self._grow(self.d, DEVICE_FIELDS, code + 1)
        return code

    def devices(self, device_ids: list[str]) -> np.ndarray:
        return np.array([self.device(d) for d in device_ids], dtype=np.int64)

    def order(self, ref: str) -> int:
        code = self.order_code.get(ref)
        if code is None:
            code = self.order_code[ref] = len(self.order_refs)
            self.order_refs.append(ref)
            self.o = self._grow(self.o, ORDER_FIELDS, code + 1)
        return code

    def to_json(self) -> dict[str, Any]:
        nd, no = len(self.dev_ids), len(self.order_refs)

        def clean(v: np.ndarray) -> list[Any]:
            return [None if isinstance(x, float) and x != x else x for x in v.tolist()]

        return {"devices": self.dev_ids, "orders": self.order_refs,
                "d": {k: clean(v[:nd]) for k, v in self.d.items()},
                "o": {k: clean(v[:no]) for k, v in self.o.items()}}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Registry:
        reg = cls()
        for d in data["devices"]:
            reg.device(d)
        for r in data["orders"]:
            reg.order(r)
        for arrays, saved in ((reg.d, data["d"]), (reg.o, data["o"])):
            for k, v in saved.items():
                if k in arrays:  # a field an older checkpoint had and this version does not (fix_x) is left
                    arrays[k][: len(v)] = np.array(
                        [np.nan if x is None else x for x in v], dtype=arrays[k].dtype
                    )
        return reg
