"""Which store a trainer uses, and whether it updates on it: MXNet 1.9.1's rules (its mx.model helpers
_create_kvstore and _create_sparse_kvstore), shared by gluon.Trainer and Module."""
import os

import numpy as np

from .base import KVStoreBase, create
from .kvstore import KVStore

__all__ = ["create_kvstore", "create_sparse_kvstore"]

# Above this many values in one parameter, a 'local' store leaves the update to the devices.
_LOCAL_UPDATE_LIMIT = 1024 * 1024 * 16


def create_kvstore(kvstore, num_device, arg_params):
    """(store or None, update_on_kvstore) for `kvstore` (a KVStoreBase, a type name or None) over
    `num_device` devices; arg_params {name: array} sizes the 'local' choice. MXNET_UPDATE_ON_KVSTORE (default
    1) is the default of update_on_kvstore. One device and a non-distributed name need no store."""
    update_on_kvstore = bool(int(os.getenv("MXNET_UPDATE_ON_KVSTORE", "1")))
    if kvstore is None:
        kv = None
    elif isinstance(kvstore, KVStoreBase):
        kv = kvstore
    elif isinstance(kvstore, str):
        if num_device == 1 and "dist" not in kvstore:
            kv = None
        else:
            kv = create(kvstore)
            if kvstore == "local" and arg_params and \
                    max(int(np.prod(a.shape)) for a in arg_params.values()) > _LOCAL_UPDATE_LIMIT:
                update_on_kvstore = False
    else:
        raise TypeError("kvstore must be KVStore, str or None")
    if kv is None:
        return None, False
    return kv, update_on_kvstore and kv.is_capable(KVStoreBase.OPTIMIZER)


def create_sparse_kvstore(kvstore):
    """(store, True) for parameters with row_sparse weights, which are always updated on the store."""
    if isinstance(kvstore, KVStore):
        kv = kvstore
    elif isinstance(kvstore, str):
        kv = create(kvstore)
    else:
        raise TypeError(f"Cannot create '{kvstore}' KVStore with row_sparse parameters. The type must be "
                        "KVStore or str.")
    if not kv.is_capable(KVStoreBase.OPTIMIZER):
        raise AssertionError("KVStore with sparse weight requires optimizer support. However, type(kv) does "
                             "not support optimizer. Please consider other kvstore backends instead.")
    return kv, True
