"""mx.nd.image: functions generated from the operator registry (filled in by mxcy.ndarray)."""
