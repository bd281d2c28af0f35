"""Conventions shared by every kernel family: write-request codes and output assignment.

Kernels import only numpy, numba, math and this module; never the rest of mxcy.
"""
import numba

# MXNet's OpReqType values, passed to kernels as plain ints.
REQ_NULL = 0
REQ_WRITE = 1
REQ_INPLACE = 2
REQ_ADD = 3


@numba.njit(inline="always", nogil=True)
def assign(old, value, req):
    """The value to store at an output element under write request `req`."""
    if req == REQ_ADD:
        return old + value
    return value
