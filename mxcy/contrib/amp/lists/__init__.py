"""The operator lists AMP decides casts by, per target type (only float16 here)."""
from . import symbol_fp16  # noqa: F401
