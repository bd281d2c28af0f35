"""mx.nd._internal: functions generated from the operator registry (filled in by mxcy.ndarray)."""
