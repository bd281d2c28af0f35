"""mx.sym.op: Symbol functions generated from the operator registry (filled in by mxcy.symbol)."""
