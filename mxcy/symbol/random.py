"""mx.sym.random: Symbol functions generated from the operator registry (filled in by mxcy.symbol)."""
