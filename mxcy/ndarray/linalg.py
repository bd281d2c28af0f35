"""mx.nd.linalg: functions generated from the operator registry (filled in by mxcy.ndarray)."""
