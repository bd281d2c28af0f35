"""mx.sym.image: Symbol functions generated from the operator registry (filled in by mxcy.symbol)."""
